"""Probe endpoints: live per-token scoring and probes, and the JSON twins of probe and
score_dpo runs, through the test client with tiny models."""

from __future__ import annotations

import pytest

from db.read import probes as reads
from tests.factories import ingest_test_split, make_tiny_lm_dir
from training.jobs.probe import run_probe_job
from training.jobs.score import run_score_job
from training.jobs.score_dpo import run_score_dpo_job
from training.probes import select_edits
from training.scoring import score_texts

PAIR = {
    "prompt": "What is the capital of France?",
    "chosen": "The capital of France is Paris. It is on the Seine.",
    "rejected": "I am not sure.",
}


def test_per_token_scores_end_at_the_score(make_client, tiny_rm):
    client = make_client()
    plain = client.post("/v1/score", json={"prompt": PAIR["prompt"], "response": PAIR["chosen"]})
    assert "tokens" not in plain.json()  # unchanged unless asked
    body = client.post(
        "/v1/score",
        json={"prompt": PAIR["prompt"], "response": PAIR["chosen"], "per_token": True},
    ).json()
    tokens = body["tokens"]
    assert "".join(t["text"] for t in tokens if t["response"]) == PAIR["chosen"]
    assert tokens[-1]["value"] == pytest.approx(body["score"], abs=1e-5)
    batch = client.post(
        "/v1/score",
        json={
            "items": [
                {"prompt": "Hi", "response": "Hello there, friend."},
                {"prompt": PAIR["prompt"], "response": PAIR["rejected"]},
            ],
            "per_token": True,
        },
    ).json()["results"]
    for r in batch:
        assert r["tokens"][-1]["value"] == pytest.approx(r["score"], abs=1e-5)


def test_live_probe_scores_every_edit_of_both_sides(make_client, tiny_rm):
    client = make_client()
    custom = {"name": "shout", "op": "regex", "pattern": "Paris", "replacement": "PARIS"}
    res = client.post(
        "/v1/probe",
        json={**PAIR, "edits": ["first_half", "no_punctuation"], "custom_edits": [custom]},
    )
    assert res.status_code == 200, res.text
    body = res.json()
    names = [e["edit"] for e in body["edits"]]
    assert names == ["original", "first_half", "no_punctuation", "shout"]
    shout = body["edits"][-1]
    assert "PARIS" in shout["chosen_text"]
    messages = [{"role": "user", "content": PAIR["prompt"]}]
    ((want, _),) = score_texts(tiny_rm, [messages], [shout["chosen_text"]])
    assert shout["chosen_score"] == pytest.approx(want, abs=1e-5)
    orig = body["edits"][0]
    assert shout["chosen_change"] == pytest.approx(shout["chosen_score"] - orig["chosen_score"])
    assert client.post("/v1/probe", json={**PAIR, "edits": ["nope"]}).status_code == 422
    bad = {**PAIR, "custom_edits": [{"name": "x", "op": "explode"}]}
    assert client.post("/v1/probe", json=bad).status_code == 422


@pytest.fixture
def runs(store, tmp_path, tiny_lm):
    name = ingest_test_split(store, tmp_path, "api", 6)
    probe = run_probe_job(
        store, str(tiny_lm), name, "test", edits=["first_half", "polite_closing"], progress=False
    ).run
    policy = make_tiny_lm_dir(tmp_path / "policy", seed=1)
    dpo = run_score_dpo_job(store, str(policy), str(tiny_lm), name, progress=False).run
    free = run_score_dpo_job(store, str(policy), None, name, progress=False).run
    rm = run_score_job(store, str(tiny_lm), name, "test", progress=False).run
    return {"probe": probe.id, "dpo": dpo.id, "free": free.id, "rm": rm.id}


def test_read_routes_equal_the_read_functions(make_client, runs, store):
    client = make_client()
    with store() as s:
        want_probe = reads.probe_summary(s, runs["probe"], "flip_rate")
        want_dpo = reads.dpo_summary(s, runs["dpo"])
        want_agree = reads.agreement(s, runs["dpo"], runs["rm"])
        pair_id = reads.probe_pair_ids(s, runs["probe"])[0]
    got = client.get(f"/v1/runs/{runs['probe']}/probes", params={"order": "flip_rate"}).json()
    assert got["pairs"] == 6 and [e["edit"] for e in got["edits"]] == [
        e["edit"] for e in want_probe["edits"]
    ]
    assert got["edits"][0]["flip_rate_chosen"] == want_probe["edits"][0]["flip_rate_chosen"]
    one = client.get(f"/v1/runs/{runs['probe']}/probes/{pair_id}").json()
    assert [e["edit"] for e in one["edits"]] == ["original", "first_half", "polite_closing"]
    first_half = select_edits(["first_half"])[0]
    assert one["edits"][1]["chosen_text"] == first_half.apply(one["edits"][0]["chosen_text"])

    dpo = client.get(f"/v1/runs/{runs['dpo']}/dpo").json()
    assert dpo["summary"]["accuracy"] == want_dpo["accuracy"]
    assert dpo["points_total"] == 6 and dpo["points"][0]["delta_chosen"] is not None
    free = client.get(f"/v1/runs/{runs['free']}/dpo").json()
    assert free["summary"]["reference_free"] and "no reference" in free["summary"]["reward"]
    assert free["points"][0]["logp_ref_chosen"] is None

    agree = client.get(f"/v1/runs/{runs['dpo']}/dpo/agreement", params={"rm_run": runs["rm"]})
    assert agree.status_code == 200
    assert agree.json()["quadrants"] == want_agree["quadrants"]
    # wrong kinds of run and unknown runs are clear errors
    assert client.get(f"/v1/runs/{runs['rm']}/probes").status_code == 422
    assert (
        client.get(
            f"/v1/runs/{runs['dpo']}/dpo/agreement", params={"rm_run": runs["probe"]}
        ).status_code
        == 422
    )
    assert client.get("/v1/runs/999999/dpo").status_code == 404
