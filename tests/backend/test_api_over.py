"""GET /v1/runs/{id}/series and /v1/runs/{id}/bon over the real app on seeded runs:
learned/forgotten counts and best-of-k curves against recomputations from the rows."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sqlalchemy import select

from db import runs
from db.schema import Dataset, Generation, GenerationScore, PairScore, Run
from tests.backend.seed import add_pair, add_pair_score

STEPS = (0, 5, 10, 15)


@pytest.fixture
def series_store(store):
    """A train_rm run with four score runs (steps 0, 5, 10, 15) on the same 30 pairs,
    gaps drawn at random so that pairs are learned, forgotten and flip back."""
    rng = np.random.default_rng(11)
    with store() as s:
        ds = Dataset(name="toy", source="toy.jsonl", format="trl", options={})
        s.add(ds)
        s.flush()
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


def _right(store, run_id):
    with store() as s:
        rows = s.execute(
            select(PairScore.pair_id, PairScore.gap).where(PairScore.run_id == run_id)
        ).all()
    return {p: g > 0 for p, g in rows}


def test_series_route_counts_equal_rows(make_client, store, series_store):
    train_id, score_ids = series_store
    client = make_client(reward=False, policies=False)
    r = client.get(f"/v1/runs/{train_id}/series", params={"b": 1000})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["steps"] == list(STEPS) and [p["run_id"] for p in body["points"]] == score_ids
    truth = [_right(store, rid) for rid in score_ids]
    for i in range(1, len(STEPS)):
        vs = body["points"][i]["vs_previous"]
        learned = sorted(p for p in truth[i] if truth[i][p] and not truth[i - 1][p])
        forgotten = sorted(p for p in truth[i] if truth[i - 1][p] and not truth[i][p])
        assert vs["learned_ids"] == learned and vs["forgotten_ids"] == forgotten
    changes = {p: sum(truth[i][p] != truth[i - 1][p] for i in range(1, 4)) for p in truth[0]}
    osc = sorted(p for p, c in changes.items() if c > 1)
    assert body["oscillating"]["count"] == len(osc) > 0
    assert sorted(body["oscillating"]["pair_ids"]) == osc
    acc = [sum(t.values()) / 30 for t in truth]
    assert [p["accuracy"]["value"] for p in body["points"]] == pytest.approx(acc)
    assert body["best"]["step"] == STEPS[int(np.argmax(acc))]
    # trajectories of chosen pairs, in step order
    pid = next(iter(truth[0]))
    r = client.get(f"/v1/runs/{train_id}/series", params={"pair": [pid]})
    (traj,) = r.json()["trajectories"]
    with store() as s:
        gaps = [
            s.scalar(select(PairScore.gap).where(PairScore.run_id == rid, PairScore.pair_id == pid))
            for rid in score_ids
        ]
    assert traj == {"pair_id": pid, "gaps": pytest.approx(gaps)}
    # a score run has no series: 422; an unknown run: 404
    assert client.get(f"/v1/runs/{score_ids[0]}/series").status_code == 422
    assert client.get("/v1/runs/999999/series").status_code == 404


def brute(proxy, values, k):
    picks = []
    for sub in itertools.combinations(range(len(proxy)), k):
        top = max(proxy[i] for i in sub)
        tied = [values[i] for i in sub if proxy[i] == top]
        picks.append(sum(tied) / len(tied))
    return sum(picks) / len(picks)


def test_bon_route_curves_equal_enumeration(make_client, store):
    rng = np.random.default_rng(5)
    n, prompts = 4, 6
    with store() as s:
        ds = Dataset(name="toy", source="toy.jsonl", format="trl", options={})
        s.add(ds)
        s.flush()
        pairs = [add_pair(s, ds.id, i) for i in range(prompts)]
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
        table = {}
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
                proxy = float(rng.integers(0, 3))  # ties on purpose
                gold = float(rng.normal())
                s.add(GenerationScore(run_id=roles["proxy"], generation_id=g.id, score=proxy))
                s.add(GenerationScore(run_id=roles["gold"], generation_id=g.id, score=gold))
                table.setdefault(p.id, []).append((proxy, gold, g.n_tokens))
        s.commit()
        bon_id = bon.id
    client = make_client(reward=False, policies=False)
    r = client.get(f"/v1/runs/{bon_id}/bon", params={"b": 1000})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ks"] == [1, 2, 4] and body["prompts"] == prompts
    for j, k in enumerate(body["ks"]):
        for name, col in (("proxy", 0), ("gold", 1), ("length", 2)):
            expected = np.mean(
                [brute([x[0] for x in rows], [x[col] for x in rows], k) for rows in table.values()]
            )
            assert body["curves"][name][j]["value"] == pytest.approx(expected)
    assert body["kl"][2] == pytest.approx(np.log(4) - 3 / 4)
    assert len(body["picks"]) == prompts
    assert client.get(f"/v1/runs/{roles['gold']}/bon").status_code == 422
