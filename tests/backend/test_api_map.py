"""GET /v1/runs/{id}/map over the real app: 404 before a map exists, then the stored
clusters (worst first) and a bounded, seeded sample of points that agree with the rows."""

from __future__ import annotations

from sqlalchemy import select

from db.schema import PairScore
from tests.map_seed import two_topic_store
from training.jobs.map_pairs import run_map_job


def test_map_route(make_client, store):
    run_id, topic_of = two_topic_store(store, 40)
    client = make_client(reward=False, policies=False)
    missing = client.get(f"/v1/runs/{run_id}/map")
    assert missing.status_code == 404 and "preflens map" in missing.text
    run_map_job(store, run_id, method="pca", k=2)
    r = client.get(f"/v1/runs/{run_id}/map", params={"max_points": 30})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["points_total"] == 80 and len(body["points"]) == 30 and body["sampled"]
    again = client.get(f"/v1/runs/{run_id}/map", params={"max_points": 30}).json()
    assert [p["pair_id"] for p in again["points"]] == [p["pair_id"] for p in body["points"]]
    with store() as s:
        gaps = dict(
            s.execute(
                select(PairScore.pair_id, PairScore.gap).where(PairScore.run_id == run_id)
            ).all()
        )
    for p in body["points"]:
        assert p["gap"] == gaps[p["pair_id"]] and p["correct"] == (gaps[p["pair_id"]] > 0)
    accs = [c["accuracy"]["value"] for c in body["clusters"]]
    assert accs == sorted(accs) and sum(c["n"] for c in body["clusters"]) == 80
    assert client.get(f"/v1/runs/{run_id}/map", params={"max_points": 0}).status_code == 422
    assert "/v1/runs/{run_id}/map" in client.get("/openapi.json").json()["paths"]


def test_cases_route_filters_by_cluster(make_client, store):
    run_id, _ = two_topic_store(store, 10)
    run_map_job(store, run_id, method="pca", k=2)
    from db.read.maps import map_clusters

    with store() as s:
        labels = map_clusters(s, run_id)
    client = make_client(reward=False, policies=False)
    for c in (0, 1):
        r = client.get("/v1/cases", params={"run": run_id, "cluster": c, "limit": 100})
        assert r.status_code == 200, r.text
        got = sorted(i["pair_id"] for i in r.json()["items"])
        assert got == sorted(p for p, lab in labels.items() if lab == c)
