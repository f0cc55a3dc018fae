"""Fix-the-data routes: flags written through the API (behind the key when one is set,
recorded under the key's name), suspects and slices equal to the store's reads."""

from __future__ import annotations

from db.flags import list_flags
from db.read.slices import run_slices
from db.read.suspects import suspects
from tests.backend.seed import add_better_run


def test_flags_round_trip_through_the_api(store, seeded, make_client):
    client = make_client(reward=False, policies=False)
    pid = seeded.pair_ids[3]
    assert client.get(f"/v1/pairs/{pid}/flag").json() is None
    r = client.put(f"/v1/pairs/{pid}/flag", json={"label": "mislabelled", "note": "swap"})
    assert r.status_code == 200, r.text
    assert r.json()["set_by"] == "api" and r.json()["label"] == "mislabelled"
    # Written to the store itself (a fresh session sees it), and listed.
    with store() as s:
        assert [(f["pair_id"], f["label"], f["note"]) for f in list_flags(s)] == [
            (pid, "mislabelled", "swap")
        ]
    assert (
        client.get("/v1/flags", params={"label": "mislabelled"}).json()["flags"][0]["pair_id"]
        == pid
    )
    assert client.get("/v1/flags", params={"label": "ok"}).json()["flags"] == []
    assert client.put(f"/v1/pairs/{pid}/flag", json={"label": "nonsense"}).status_code == 422
    assert client.put("/v1/pairs/999999/flag", json={"label": "ok"}).status_code == 404
    assert client.delete(f"/v1/pairs/{pid}/flag").json()["label"] == "mislabelled"
    assert client.get(f"/v1/pairs/{pid}/flag").json() is None


def test_flag_writes_need_the_key_and_record_its_name(store, seeded, make_client):
    client = make_client(reward=False, policies=False, api_key="s3cret", api_key_name="alice")
    pid = seeded.pair_ids[0]
    assert client.put(f"/v1/pairs/{pid}/flag", json={"label": "ok"}).status_code == 401
    headers = {"Authorization": "Bearer s3cret"}
    r = client.put(f"/v1/pairs/{pid}/flag", json={"label": "ambiguous"}, headers=headers)
    assert r.status_code == 200 and r.json()["set_by"] == "alice"


def test_suspects_and_slices_equal_the_store_reads(store, seeded, make_client):
    client = make_client(reward=False, policies=False)
    # The seeded run is no better than chance (its temperature fit ends at the bound):
    # no signal, and the answer says so.
    r = client.get("/v1/datasets/toy/suspects", params={"limit": 10})
    assert r.status_code == 422 and "temperature fit failed" in r.json()["detail"]
    add_better_run(store, seeded)
    r = client.get("/v1/datasets/toy/suspects", params={"limit": 10})
    assert r.status_code == 200, r.text
    assert [x["run"] for x in r.json()["skipped"]] == [seeded.score_run]
    assert r.json()["skipped"][0]["model"] == "tiny"  # the seeded run's config names it
    with store() as s:
        expect = suspects(s, "toy", limit=10)
        slices = run_slices(s, seeded.score_run)
    assert r.json() == expect
    r = client.get(f"/v1/runs/{seeded.score_run}/slices")
    assert r.status_code == 200 and r.json() == slices
    assert client.get("/v1/datasets/nope/suspects").status_code == 404
    assert client.get(f"/v1/runs/{seeded.train_run}/slices").status_code == 422
