"""The case API and suspicion: `GET /v1/cases?sort=suspicion` pages through a run's pairs
in the order the suspects route ranks its dataset, and `GET /v1/cases/{id}` carries the
flag set through the flag route."""

from __future__ import annotations

from tests.backend.seed import add_better_run


def _all_pages(client, run: int) -> tuple[list[dict], dict, int]:
    items, cursor, pages = [], None, 0
    while True:
        params = {"run": run, "sort": "suspicion", "limit": 3}
        r = client.get("/v1/cases", params=params | ({"cursor": cursor} if cursor else {}))
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        pages += 1
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return items, r.json(), pages


def test_no_signal_leaves_the_suspicion_order_by_pair_id(seeded, make_client):
    """The seeded run ranks pairs backwards: no signal, so every case has no suspicion and
    the order falls back to pair id."""
    client = make_client(reward=False, policies=False)
    items, _, _ = _all_pages(client, seeded.score_run)
    assert [it["pair_id"] for it in items] == sorted(seeded.pair_ids)
    assert {(it["suspicion"], it["signals"]) for it in items} == {(None, 0)}


def test_cases_by_suspicion_follow_the_suspects_route(store, seeded, make_client):
    add_better_run(store, seeded)
    client = make_client(reward=False, policies=False)
    ranked = client.get("/v1/datasets/toy/suspects", params={"limit": 500}).json()
    items, last, pages = _all_pages(client, seeded.score_run)
    assert pages > 2 and last["total"] == len(items) == ranked["total"]
    assert [it["pair_id"] for it in items] == [s["pair_id"] for s in ranked["suspects"]]
    assert [(it["suspicion"], it["signals"]) for it in items] == [
        (s["suspicion"], s["signals"]) for s in ranked["suspects"]
    ]
    # Only a score run's pairs have a suspicion.
    bad = client.get("/v1/cases", params={"run": seeded.gen_score_run, "sort": "suspicion"})
    assert bad.status_code == 422 and "suspicion" in bad.json()["detail"]


def test_case_detail_carries_the_flag_set_through_the_api(seeded, make_client):
    client = make_client(reward=False, policies=False)
    pid, other = seeded.pair_ids[2], seeded.pair_ids[1]
    url = f"/v1/cases/{pid}"
    assert client.get(url, params={"run": seeded.score_run}).json()["flag"] is None
    put = client.put(f"/v1/pairs/{pid}/flag", json={"label": "ambiguous", "note": "both ok"})
    assert put.status_code == 200, put.text
    flag = client.get(url, params={"run": seeded.score_run}).json()["flag"]
    assert flag == put.json()
    assert (flag["label"], flag["note"], flag["set_by"]) == ("ambiguous", "both ok", "api")
    assert flag["updated_at"]
    assert client.get(f"/v1/cases/{other}", params={"run": seeded.score_run}).json()["flag"] is None
