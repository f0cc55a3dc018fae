"""Suspicion finds planted label flips: a tiny RM trained on clean pairs scores a copy of
the test pairs with a known share of labels flipped; the flipped pairs rank on top."""

from __future__ import annotations

import numpy as np
import pytest

from tests.factories import write_jsonl
from tests.training.test_train_rm import easy_rows
from training.jobs.ingest import ingest
from training.jobs.score import run_score_job
from training.jobs.train_rm import RMTrainConfig, train_rm


@pytest.mark.slow
def test_planted_flips_rank_far_above_the_base_rate(store, tiny_lm, tmp_path):
    clean = easy_rows(32, "train") + easy_rows(16, "test", start=100)
    ingest(store, write_jsonl(tmp_path / "easy.jsonl", clean), name="easy", progress=False)
    cfg = RMTrainConfig(
        dataset="easy",
        model=str(tiny_lm),
        output=str(tmp_path / "rm"),
        lr=3e-3,
        batch_size=8,
        epochs=6,
        logging_steps=4,
        max_length=64,
        warmup_ratio=0.0,
    )
    result = train_rm(store, cfg, progress=False)
    assert result.run.summary["scores"]["after"]["accuracy"] >= 0.9  # accurate on clean pairs

    # 40 unseen pairs, 10 of them (25%) with chosen and rejected swapped.
    rows = easy_rows(40, "test", start=500)
    flipped = set(np.random.default_rng(1).choice(40, size=10, replace=False).tolist())
    for i in flipped:
        rows[i]["chosen"], rows[i]["rejected"] = rows[i]["rejected"], rows[i]["chosen"]
    ingest(store, write_jsonl(tmp_path / "noisy.jsonl", rows), name="noisy", progress=False)
    run_score_job(store, str(tmp_path / "rm"), "noisy", split="test", max_length=64, progress=False)

    from db.read.suspects import rank_pairs
    from db.schema import Pair

    with store() as s:
        ranked = rank_pairs(s, "noisy")
        row_of = {p.id: p.source_row - 1 for p in s.query(Pair)}
    top = [row_of[int(p)] for p in ranked["pair_id"][: len(flipped)]]
    precision = len(set(top) & flipped) / len(flipped)
    base_rate = len(flipped) / len(rows)
    assert precision >= 0.8 > 2 * base_rate, (precision, base_rate)
