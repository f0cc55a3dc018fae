"""The diagnostics routes on a seeded store: the JSON equals db.read.diagnostics, the
contract's fields are there, and bad input is a 4xx with a message."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient
from statsmodels.stats.proportion import proportion_confint

from db.read import diagnostics as diag
from tests.diagnostics_seed import seed_diagnostics

INTERVAL = {"value", "ci_low", "ci_high", "n"}


@pytest.fixture
def seeded_diag(store):
    return seed_diagnostics(store)


@pytest.fixture
def client(api_settings, seeded_diag):
    from backend.app import create_app

    app = create_app(api_settings, reward_model=None, policies={})
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_diagnostics_contract_and_values(client, store, seeded_diag):
    r = client.get(f"/v1/runs/{seeded_diag.after_run}/diagnostics")
    assert r.status_code == 200, r.text
    body = r.json()
    for key in ("accuracy", "auc", "gap_mean"):
        assert INTERVAL <= body[key].keys()
    assert {"category", "n", "accuracy"} <= body["by_category"][0].keys()
    assert INTERVAL - {"n"} <= body["by_category"][0]["accuracy"].keys()
    assert {
        "chosen_longer",
        "chosen_shorter",
        "longer_wins_baseline",
        "shorter_wins_baseline",
        "length_balanced_accuracy",
        "spearman_gap_length_diff",
        "bins",
    } <= body["length"].keys()
    assert {"bins", "ece", "brier", "nll", "temperature", "ece_after_temperature"} <= body[
        "calibration"
    ].keys()
    with store() as s:
        direct = diag.run_diagnostics(s, seeded_diag.after_run)
    assert body["accuracy"] == direct["accuracy"]
    assert body["calibration"]["ece"] == pytest.approx(direct["calibration"]["ece"])
    gaps = np.array([((i * 5) % 13 - 3) / 3 for i in range(40)])
    k = int((gaps > 0).sum())
    assert body["accuracy"]["value"] == pytest.approx(k / 40)
    assert body["accuracy"]["ci_low"] == pytest.approx(
        proportion_confint(k, 40, method="wilson")[0]
    )


def test_generation_run_diagnostics(client, seeded_diag):
    r = client.get(f"/v1/runs/{seeded_diag.base.gen_score_run}/diagnostics", params={"b": 1000})
    assert r.status_code == 200, r.text
    (cmp,) = r.json()["comparisons"]
    assert {"mean_difference", "win_rate", "decisive_win_rate", "sign_test_p"} <= cmp.keys()
    assert "lc_win_rate" in cmp["length_controlled"]


def test_paired_route(client, store, seeded_diag):
    a, b = seeded_diag.base.score_run, seeded_diag.partial_run
    r = client.get(f"/v1/runs/{a}/paired/{b}")
    assert r.status_code == 200, r.text
    body = r.json()
    with store() as s:
        direct = diag.paired(s, a, b)
    for key in ("n", "accuracy_a", "accuracy_b", "difference", "mcnemar_p", "flips"):
        assert body[key] == direct[key]
    assert body["kendall_tau"] == pytest.approx(direct["kendall_tau"])
    assert body["left_out"] == {"only_a": 20, "only_b": 0}
    assert client.get(f"/v1/runs/{a}/paired/{a}").status_code == 422
    assert client.get(f"/v1/runs/{a}/paired/999999").status_code == 404


def test_confidently_wrong_and_label_noise_routes(client, store, seeded_diag):
    run = seeded_diag.after_run
    r = client.get(f"/v1/runs/{run}/confidently-wrong", params={"limit": 3})
    assert r.status_code == 200, r.text
    cases = r.json()["cases"]
    with store() as s:
        assert [c["pair_id"] for c in cases] == [
            c["pair_id"] for c in diag.confidently_wrong(s, run, 3)
        ]
    assert [c["gap"] for c in cases] == sorted(c["gap"] for c in cases)
    runs = [seeded_diag.base.score_run, run, seeded_diag.partial_run]
    r = client.get("/v1/label-noise", params={"run": runs, "min_agree": 2})
    assert r.status_code == 200, r.text
    with store() as s:
        assert r.json()["total"] == diag.label_noise_candidates(s, runs, 2)["total"]
    assert client.get("/v1/label-noise", params={"run": runs, "min_agree": 9}).status_code == 422
    assert client.get("/v1/label-noise").status_code == 422
    bad = client.get(f"/v1/runs/{seeded_diag.base.gen_score_run}/confidently-wrong")
    assert bad.status_code == 422 and "not a score run" in bad.text


def test_bad_parameters(client, seeded_diag):
    run = seeded_diag.after_run
    assert client.get(f"/v1/runs/{run}/diagnostics", params={"b": 10}).status_code == 422
    assert client.get(f"/v1/runs/{2**64}/diagnostics").status_code == 422
    assert client.get(f"/v1/runs/{seeded_diag.base.train_run}/diagnostics").status_code == 422
    assert client.get(f"/v1/runs/{run}/confidently-wrong", params={"limit": 0}).status_code == 422
    assert "/v1/runs/{run_id}/diagnostics" in client.get("/openapi.json").json()["paths"]


def test_examples_fit_their_models_and_appear_in_the_docs(client):
    from backend.examples import examples as _examples
    from backend.schemas.diagnostics import ConfidentlyWrong, Diagnostics, LabelNoise, Paired

    examples = _examples()
    for name, model in (
        ("diagnostics", Diagnostics),
        ("paired", Paired),
        ("confidently_wrong", ConfidentlyWrong),
        ("label_noise", LabelNoise),
    ):
        model.model_validate(examples[name])
    paths = client.get("/openapi.json").json()["paths"]
    op = paths["/v1/runs/{run_a}/paired/{run_b}"]["get"]
    assert op["responses"]["200"]["content"]["application/json"]["example"]["n"] == 40
