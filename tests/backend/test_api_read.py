"""Read endpoints through FastAPI's test client on a real SQLite file: each returns
exactly what the db.read function the dashboard uses returns."""

from __future__ import annotations

import json
import re

import pytest

from db import read


def reads(seeded):
    """(path, the db.read call that must give the same JSON) for every read endpoint."""
    sr, gr, tr, gen = seeded.score_run, seeded.gen_score_run, seeded.train_run, seeded.generate_run
    pid = seeded.pair_ids[3]
    return [
        ("/v1/datasets", lambda s: read.list_datasets(s)),
        ("/v1/datasets/toy", lambda s: read.get_dataset(s, "toy")),
        ("/v1/datasets/1", lambda s: read.get_dataset(s, 1)),
        ("/v1/runs", lambda s: read.list_runs(s)),
        (
            "/v1/runs?kind=score&status=done&dataset=toy",
            lambda s: read.list_runs(s, "score", "done", "toy"),
        ),
        (f"/v1/runs/{sr}", lambda s: read.get_run(s, sr)),
        (f"/v1/runs/{sr}/summary", lambda s: read.run_summary(s, sr)),
        (f"/v1/runs/{gr}/summary?tie_margin=0.2", lambda s: read.run_summary(s, gr, 0.2)),
        (f"/v1/runs/{tr}/summary", lambda s: read.run_summary(s, tr)),
        (f"/v1/runs/{gen}/summary", lambda s: read.run_summary(s, gen)),
        (
            f"/v1/runs/{sr}/histogram?side=chosen&bins=8&min=-1&max=1.5",
            lambda s: read.histogram(s, sr, "chosen", 8, -1, 1.5),
        ),
        (
            f"/v1/runs/{gr}/histogram?side=score&policy=dpo",
            lambda s: read.histogram(s, gr, "score", policy="dpo"),
        ),
        (
            f"/v1/runs/{gr}/histogram?a=base&b=dpo&bins=4",
            lambda s: read.histogram(s, gr, "gap", 4, a="base", b="dpo"),
        ),
        (f"/v1/runs/{sr}/cdf?side=rejected&points=10", lambda s: read.cdf(s, sr, "rejected", 10)),
        (f"/v1/runs/{gr}/cdf", lambda s: read.cdf(s, gr)),
        (
            f"/v1/runs/{sr}/percentile?score=0.3",
            lambda s: {
                "run_id": sr,
                "score": 0.3,
                "policy": None,
                "percentile": read.score_percentile(s, sr, 0.3),
            },
        ),
        (f"/v1/runs/{gr}/scatter", lambda s: read.generation_scatter(s, gr)),
        (f"/v1/runs/{sr}/box?side=chosen", lambda s: read.box_stats(s, sr, "chosen")),
        (f"/v1/runs/{sr}/box", lambda s: read.box_stats(s, sr)),
        (
            f"/v1/runs/{gr}/box?side=score&policy=base",
            lambda s: read.box_stats(s, gr, "score", policy="base"),
        ),
        (
            f"/v1/runs/{gr}/box?a=dpo&b=base",
            lambda s: read.box_stats(s, gr, "gap", a="dpo", b="base"),
        ),
        ("/v1/checkpoints", lambda s: read.list_checkpoints(s)),
        (
            f"/v1/metrics?run={tr}&run={sr}&name=train/loss&name=eval/accuracy",
            lambda s: read.metrics(s, [tr, sr], ["train/loss", "eval/accuracy"]),
        ),
        (
            f"/v1/cases?run={sr}&min_gap=-1&max_gap=1&sort=abs_gap&limit=5&q=apple",
            lambda s: read.search_cases(
                s, sr, min_gap=-1, max_gap=1, sort="abs_gap", limit=5, q="apple"
            ),
        ),
        (
            f"/v1/cases?run={gr}&category=safety",
            lambda s: read.search_cases(s, gr, category="safety"),
        ),
        (f"/v1/cases/{pid}?run={sr}", lambda s: read.get_case(s, sr, pid)),
        (
            f"/v1/cases/{pid}?run={gr}&a=base&b=dpo",
            lambda s: read.get_case(s, gr, pid, "base", "dpo"),
        ),
    ]


def test_every_read_endpoint_is_the_json_twin_of_db_read(client, seeded, store):
    """With the response models in place the JSON is still exactly db.read's result:
    no key added (e.g. `policy: null`), none dropped, no value changed."""
    for path, call in reads(seeded):
        response = client.get(path)
        assert response.status_code == 200, (path, response.text)
        with store() as s:
            assert response.json() == json.loads(json.dumps(call(s))), path


def test_the_twin_list_covers_every_read_route(client, seeded):
    """Every GET route tagged data or cases is in `reads`."""
    paths = client.get("/openapi.json").json()["paths"]
    templates = {
        p for p, ops in paths.items() if {"data", "cases"} & set(ops.get("get", {}).get("tags", []))
    }
    covered = set()
    for path, _ in reads(seeded):
        bare = path.split("?")[0]
        for template in templates:
            pattern = re.sub(r"\\{[^/]+\\}", "[^/]+", re.escape(template))
            if re.fullmatch(pattern, bare):
                covered.add(template)
    assert templates - covered == set()
    assert len(templates) >= 14


def _has_schema(content: dict, components: dict) -> bool:
    schema = content.get("schema") or {}
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return "properties" in components[name]
    items = schema.get("items") or {}
    return "properties" in schema or "$ref" in items or "anyOf" in schema


def test_openapi_declares_a_json_schema_for_every_200(client):
    doc = client.get("/openapi.json").json()
    components = doc["components"]["schemas"]
    operations = [(p, m, op) for p, ops in doc["paths"].items() for m, op in ops.items()]
    assert len(operations) >= 20
    for path, method, op in operations:
        ok = op["responses"].get("200", {}).get("content", {}).get("application/json", {})
        assert _has_schema(ok, components), f"{method.upper()} {path}: no 200 schema"
    # the free-form parts are kept, not dropped: run config and summary allow any keys
    assert components["RunInfo"]["additionalProperties"] is True
    assert components["RunInfo"]["properties"]["config"]["type"] == "object"


def test_case_pages_through_the_api(client, seeded):
    ids, cursor = [], None
    while True:
        params = {
            "run": seeded.score_run,
            "min_gap": -0.5,
            "max_gap": 2,
            "sort": "gap_asc",
            "limit": 3,
        }
        page = client.get(
            "/v1/cases", params={**params, **({"cursor": cursor} if cursor else {})}
        ).json()
        ids += [i["pair_id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    inside = sorted((g, p) for p, g in seeded.gaps.items() if -0.5 <= g <= 2)
    assert ids == [p for _, p in inside]


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/v1/runs/999", 404, "no run with id 999"),
        ("/v1/runs/999/summary", 404, "no run with id 999"),
        ("/v1/runs/999/histogram", 404, "no run"),
        ("/v1/runs/999/box", 404, "no run"),
        ("/v1/runs/1/box?side=middle", 422, "side 'middle'"),
        ("/v1/cases?run=999", 404, "no run"),
        ("/v1/cases/9999?run=1", 404, "no pair with id 9999"),
        ("/v1/datasets/nope", 404, "no dataset named 'nope'"),
        ("/v1/metrics?run=999", 404, "no run"),
        ("/v1/runs/1/histogram?side=middle", 422, "side 'middle'"),
        ("/v1/runs/1/histogram?bins=0", 422, "bins"),
        ("/v1/runs/1/histogram?min=2&max=1", 422, "range"),
        ("/v1/runs/2/cdf", 422, "train_rm run"),
        ("/v1/cases?run=1&sort=random", 422, "sort"),
        ("/v1/cases?run=1&cursor=abc", 422, "cursor"),
        ("/v1/cases?run=1&min_gap=abc", 422, "min_gap"),
        ("/v1/cases", 422, "query.run: Field required"),
        ("/v1/runs/abc", 422, "run_id"),
        ("/v1/cases?run=4&a=dpo", 422, "both policies"),
        ("/nowhere", 404, "no endpoint /nowhere"),
    ],
)
def test_errors_are_json_with_a_clear_message(client, seeded, path, status, words):
    response = client.get(path)
    assert response.status_code == status
    body = response.json()
    assert body["status"] == status and words in body["detail"]
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    "path",
    [
        "/v1/datasets/..%2F..%2F..%2Fetc%2Fpasswd",
        "/v1/datasets/%2Fetc%2Fpasswd",
        "/../../etc/passwd",
        "/static/../../etc/passwd",
        "/docs/../../../etc/hostname",
        "/v1/cases/1?run=1&q=../../etc/passwd",
    ],
)
def test_no_server_path_can_be_read(client, seeded, path):
    response = client.get(path)
    assert response.headers["content-type"].startswith("application/json")
    assert "root:" not in response.text and response.status_code in (200, 404, 422)


def test_checkpoints_and_box_through_the_api(client, seeded):
    (ckpt,) = client.get("/v1/checkpoints").json()
    assert (ckpt["name"], ckpt["kind"], ckpt["runs"]) == ("rm-toy", "rm", [seeded.train_run])
    assert ckpt["path"] == "rm-toy" and ckpt["base"] == "tiny"  # no server path leaks
    box = client.get(f"/v1/runs/{seeded.score_run}/box?side=gap").json()
    gaps = sorted(seeded.gaps.values())
    assert box["n"] == len(gaps) and box["min"] == gaps[0] and box["max"] == gaps[-1]
    assert box["q1"] <= box["median"] <= box["q3"]
    assert box["whisker_low"] >= box["q1"] - 1.5 * (box["q3"] - box["q1"])


def test_the_openapi_examples_are_package_data_and_fit_their_models():
    """The examples moved out of code into backend/openapi_examples.json; each still
    validates against the response model of its endpoint."""
    from pydantic import TypeAdapter

    from backend import schemas
    from backend.examples import example, examples

    models = {
        "healthz": schemas.Health,
        "readyz": schemas.Readiness,
        "models": schemas.Models,
        "score": schemas.ScoreResult,
        "compare": schemas.CompareResult,
        "generate": schemas.GenerateResult,
        "datasets": list[schemas.DatasetInfo],
        "dataset": schemas.DatasetDetail,
        "runs": list[schemas.RunInfo],
        "run": schemas.RunInfo,
        "summary": schemas.RunSummary,
        "histogram": schemas.Histogram,
        "cdf": schemas.Cdf,
        "box": schemas.BoxStats,
        "checkpoints": list[schemas.CheckpointInfo],
        "percentile": schemas.Percentile,
        "scatter": schemas.Scatter,
        "metrics": schemas.Metrics,
        "cases": schemas.CasePage,
        "case": schemas.Case,
    }
    for name, model in models.items():
        TypeAdapter(model).validate_python(examples()[name])
        assert example(name)[200]["content"]["application/json"]["example"] == examples()[name]
