"""Seeded checkpoint series and best-of-N runs (random gaps and scores, proxy ties on
purpose) for the API and dashboard tests of the Over training views."""

from __future__ import annotations

import numpy as np

from db import runs
from db.schema import Dataset, Generation, GenerationScore, Run
from tests.backend.seed import add_pair, add_pair_score

STEPS = (0, 5, 10, 15)


def _dataset(s, name: str) -> Dataset:
    ds = Dataset(name=name, source=f"{name}.jsonl", format="trl", options={})
    s.add(ds)
    s.flush()
    return ds


def seed_series(store, name: str = "toy") -> tuple[int, list[int]]:
    """A train_rm run with four score runs (steps 0, 5, 10, 15) on the same 30 pairs,
    gaps drawn at random so that pairs are learned, forgotten and flip back."""
    rng = np.random.default_rng(11)
    with store() as s:
        ds = _dataset(s, name)
        pairs = [add_pair(s, ds.id, i) for i in range(30)]
        train = Run(kind="train_rm", key="t", status="done", config={}, dataset_id=ds.id)
        s.add(train)
        s.flush()
        score_ids = []
        for step in STEPS:
            run = Run(kind="score", key=f"s{step}", status="done", config={}, dataset_id=ds.id)
            s.add(run)
            s.flush()
            for p in pairs:
                add_pair_score(s, run.id, p, float(rng.normal(0.3 * step / 15, 1.0)))
            runs.link_series(s, run.id, train.id, step)
            score_ids.append(run.id)
        s.commit()
        return train.id, score_ids


def seed_bon(store, name: str = "bon", n: int = 4, prompts: int = 6):
    """A bon run (N answers per prompt) scored by a proxy (integer scores: ties) and a
    gold RM; returns (bon run id, {role: run id}, {pair id: [(proxy, gold, tokens)]})."""
    rng = np.random.default_rng(5)
    with store() as s:
        ds = _dataset(s, name)
        pairs = [add_pair(s, ds.id, 100 + i) for i in range(prompts)]
        bon = Run(kind="bon", key="b", status="running", config={"n": n, "policy": "base"})
        s.add(bon)
        s.flush()
        roles = {}
        for role in ("proxy", "gold"):
            r = Run(kind="bon_score", key=role, status="done", config={"role": role})
            r.parent_run_id = bon.id
            s.add(r)
            s.flush()
            roles[role] = r.id
        table: dict[int, list] = {}
        for p in pairs:
            for j in range(n):
                g = Generation(
                    run_id=bon.id,
                    pair_id=p.id,
                    policy=f"base#{j}",
                    text=f"answer {j}",
                    n_tokens=int(rng.integers(1, 30)),
                    finish_reason="stop",
                )
                s.add(g)
                s.flush()
                proxy = float(rng.integers(0, 3))
                gold = float(rng.normal())
                s.add(GenerationScore(run_id=roles["proxy"], generation_id=g.id, score=proxy))
                s.add(GenerationScore(run_id=roles["gold"], generation_id=g.id, score=gold))
                table.setdefault(p.id, []).append((proxy, gold, g.n_tokens))
        s.commit()
        return bon.id, roles, table
