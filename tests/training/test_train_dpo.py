"""DPO-family training on a tiny model: the margin rises, metrics reach the store."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from db.schema import Checkpoint, Metric
from tests.factories import write_jsonl
from tests.training.test_train_rm import easy_rows
from training.jobs.ingest import ingest
from training.jobs.train_dpo import DPOTrainConfig, train_dpo


@pytest.fixture
def easy(store, tmp_path):
    rows = easy_rows(16, "train") + easy_rows(8, "test", start=100)
    ingest(store, write_jsonl(tmp_path / "easy.jsonl", rows), name="easy", progress=False)
    return "easy"


def _curve(store, run_id, name):
    with store() as s:
        return s.scalars(
            select(Metric.value)
            .where(Metric.run_id == run_id, Metric.name == name)
            .order_by(Metric.step)
        ).all()


@pytest.mark.parametrize("precompute", [False, True])
def test_dpo_steps_raise_the_margin(store, easy, tiny_lm, tmp_path, precompute):
    out = tmp_path / "dpo"
    cfg = DPOTrainConfig(
        dataset=easy,
        model=str(tiny_lm),
        output=str(out),
        lr=5e-3,
        batch_size=4,
        max_steps=12,
        logging_steps=1,
        max_length=64,
        warmup_ratio=0.0,
        precompute_ref=precompute,
        eval_steps=6,
    )
    run = train_dpo(store, cfg, progress=False).run
    assert run.status == "done" and run.kind == "train_dpo"
    margins = _curve(store, run.id, "train/rewards/margins")
    assert len(margins) >= 10
    assert margins[0] == pytest.approx(0.0, abs=1e-3)  # policy == reference at step 0
    assert max(margins[-3:]) > margins[0] + 0.05
    with store() as s:
        names = set(s.scalars(select(Metric.name).where(Metric.run_id == run.id)))
        ckpt = s.scalars(select(Checkpoint).where(Checkpoint.kind == "policy")).one()
    assert {
        "train/loss",
        "train/rewards/chosen",
        "train/rewards/rejected",
        "train/rewards/accuracies",
        "train/logps/chosen",
        "train/logps/rejected",
        "eval/loss",
    } <= names
    assert ckpt.path == str(out.resolve())
    record = json.loads((out / "run.json").read_text())
    assert record["kind"] == "policy" and record["config"]["beta"] == 0.1


@pytest.mark.parametrize("loss", ["ipo", "hinge", "simpo", "orpo"])
def test_other_losses_train(store, easy, tiny_lm, tmp_path, loss):
    cfg = DPOTrainConfig(
        dataset=easy,
        model=str(tiny_lm),
        output=str(tmp_path / loss),
        loss=loss,
        lr=5e-3,
        batch_size=4,
        max_steps=3,
        logging_steps=1,
        max_length=64,
        warmup_ratio=0.0,
    )
    run = train_dpo(store, cfg, progress=False).run
    assert run.status == "done"
    losses = _curve(store, run.id, "train/loss")
    assert len(losses) >= 3 and all(v == v for v in losses)  # finite (not NaN)
    assert (tmp_path / loss / "model.safetensors").exists()
