"""GET /v1/runs/{id}/series and /v1/runs/{id}/bon over the real app on seeded runs:
learned/forgotten counts and best-of-k curves against recomputations from the rows."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sqlalchemy import select

from db.schema import PairScore
from tests.over_seed import STEPS, seed_bon, seed_series


@pytest.fixture
def series_store(store):
    return seed_series(store)


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
    bon_id, roles, table = seed_bon(store)
    prompts = len(table)
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
    gold = [c["value"] for c in body["curves"]["gold"]]
    assert body["gold_peak"]["k"] == body["ks"][int(np.argmax(gold))]
    assert isinstance(body["gold_peak"]["k"], int)
    assert len(body["picks"]) == prompts
    assert client.get(f"/v1/runs/{roles['gold']}/bon").status_code == 422
