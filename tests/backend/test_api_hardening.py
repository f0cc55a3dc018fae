"""Inputs that broke the API (a 500, a wrong answer or a leak) and what it answers now:
ids past SQLite's integer range, lone surrogates, non-finite numbers, oversized
prompts, long echoes, long query strings, double-logged 500s and server paths."""

from __future__ import annotations

import base64
import json
import logging

import pytest

from db.schema import Checkpoint, Dataset, Run

BIG = 2**63  # one past SQLite's largest integer
HUGE = 10**30


def assert_json_error(response, *statuses: int) -> dict:
    """The documented error shape with one of ``statuses``."""
    assert response.status_code in statuses, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) >= {"status", "error", "detail"} and body["status"] == response.status_code
    assert "Traceback" not in response.text
    return body


def post_raw(client, path: str, body: dict, **kwargs):
    """POST ``body`` as ASCII JSON (lone surrogates as \\u escapes, as a client may send)."""
    return client.post(
        path,
        content=json.dumps(body),
        headers={"content-type": "application/json"},
        **kwargs,
    )


# ------------------------------------------------------------------ a. large ids
def test_ids_past_the_integer_range_are_404_or_422(client, seeded):
    sr = seeded.score_run
    paths = [
        f"/v1/runs/{BIG}",
        f"/v1/runs/{HUGE}/summary",
        f"/v1/runs/{BIG}/histogram",
        f"/v1/runs/{BIG}/cdf",
        f"/v1/runs/{BIG}/box",
        f"/v1/runs/{BIG}/percentile?score=0",
        f"/v1/runs/{BIG}/scatter",
        f"/v1/cases?run={BIG}",
        f"/v1/cases/{BIG}?run={sr}",
        f"/v1/cases/{seeded.pair_ids[0]}?run={HUGE}",
        f"/v1/metrics?run={seeded.train_run}&run={BIG}",
        f"/v1/datasets/{HUGE}",
        f"/v1/runs?dataset={HUGE}",
        f"/v1/runs/-{BIG + 1}",
    ]
    for path in paths:
        assert_json_error(client.get(path), 404, 422)
    r = client.post(
        "/v1/compare", json={"prompt": "p", "response_a": "a", "response_b": "b", "run": BIG}
    )
    assert_json_error(r, 404, 422)


def _forged(cursor: str, **changes) -> str:
    payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw = json.dumps({**payload, **changes}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize("changes", [{"id": HUGE}, {"id": 1e300}, {"id": -BIG - 1}])
def test_a_forged_cursor_with_a_huge_id_is_422(client, seeded, changes):
    params = {"run": seeded.score_run, "limit": 2}
    page = client.get("/v1/cases", params=params).json()
    cursor = _forged(page["next_cursor"], **changes)  # same query fingerprint
    body = assert_json_error(client.get("/v1/cases", params={**params, "cursor": cursor}), 422)
    assert "cursor" in body["detail"]


def test_a_forged_cursor_with_a_nan_key_is_422(client, seeded):
    params = {"run": seeded.score_run, "limit": 2}
    page = client.get("/v1/cases", params=params).json()
    payload = base64.urlsafe_b64decode(page["next_cursor"] + "==")
    forged = json.loads(payload)
    text = json.dumps(forged).replace(json.dumps(forged["k"]), "NaN", 1)
    cursor = base64.urlsafe_b64encode(text.encode()).decode()
    assert_json_error(client.get("/v1/cases", params={**params, "cursor": cursor}), 422)


# ------------------------------------------------------------------ b. lone surrogates
@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/score", {"prompt": "Hi \ud800", "response": "ok"}),
        ("/v1/score", {"prompt": "Hi", "response": "\udfff"}),
        (
            "/v1/score",
            {"items": [{"prompt": [{"role": "user", "content": "\ud800"}], "response": "x"}]},
        ),
        ("/v1/compare", {"prompt": "p", "response_a": "a", "response_b": "b\ud800"}),
        (
            "/v1/compare",
            {
                "prompt": [{"role": "user", "content": "\ud800"}],
                "response_a": "a",
                "response_b": "b",
            },
        ),
        ("/v1/generate", {"prompt": "\ud800", "max_new_tokens": 2}),
        ("/v1/generate", {"prompt": "Hi", "policies": ["\ud800"], "max_new_tokens": 2}),
    ],
)
def test_lone_surrogates_are_422(client, path, body):
    assert_json_error(post_raw(client, path, body), 422)


# ------------------------------------------------------------------ c. seed
def test_generate_seed_and_temperature_are_bounded(client):
    body = {"prompt": "Hi", "policies": ["base"], "max_new_tokens": 2, "temperature": 0.7}
    assert_json_error(client.post("/v1/generate", json={**body, "seed": 2**64}), 422)
    assert client.post("/v1/generate", json={**body, "seed": 2**64 - 1}).status_code == 200
    # found by the fuzz test: logits / 5e-324 are infinite and sampling failed (500)
    tiny = {**body, "temperature": 5e-324, "top_p": 5e-324}
    assert "temperature" in assert_json_error(client.post("/v1/generate", json=tiny), 422)["detail"]
    assert client.post("/v1/generate", json={**body, "temperature": 0.0}).status_code == 200


# ------------------------------------------------------------------ d. non-finite numbers
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "NaN", "Infinity"])
def test_non_finite_query_numbers_are_422(client, seeded, value):
    sr = seeded.score_run
    assert_json_error(client.get(f"/v1/runs/{sr}/percentile?score={value}"), 422)
    assert_json_error(client.get(f"/v1/cases?run={sr}&min_gap={value}"), 422)
    assert_json_error(client.get(f"/v1/cases?run={sr}&max_gap={value}"), 422)
    assert_json_error(client.get(f"/v1/runs/{sr}/histogram?min={value}"), 422)


@pytest.mark.parametrize(
    "query",
    ["min=-1e308&max=1e308", "min=-1.7e308&max=1.7e308&bins=3", "min=0&max=5e-324&bins=1000"],
)
def test_a_huge_or_tiny_histogram_range_never_gives_null_edges(client, seeded, query):
    r = client.get(f"/v1/runs/{seeded.score_run}/histogram?{query}")
    if r.status_code == 200:
        body = r.json()
        assert None not in body["edges"] and None not in body["range"]
        assert sum(body["counts"]) + body["below"] + body["above"] == body["n"]
    else:
        assert_json_error(r, 422)


# ------------------------------------------------------------------ e. limits
def test_the_whole_prompt_is_limited(client):
    messages = [{"role": "user", "content": "x" * 19_998} for _ in range(49)]
    for path, body in [
        ("/v1/score", {"prompt": messages, "response": "ok"}),
        ("/v1/compare", {"prompt": messages, "response_a": "a", "response_b": "b"}),
        ("/v1/generate", {"prompt": messages, "max_new_tokens": 2}),
    ]:
        detail = assert_json_error(client.post(path, json=body), 422)["detail"]
        assert "max_prompt_chars" in detail


def test_the_prompt_limit_is_a_setting(make_client, seeded):
    client = make_client(max_prompt_chars=10)
    messages = [{"role": "user", "content": "123456"}, {"role": "assistant", "content": "78901"}]
    r = client.post("/v1/score", json={"prompt": messages, "response": "ok"})
    assert "max_prompt_chars=10" in assert_json_error(r, 422)["detail"]
    assert (
        client.post("/v1/score", json={"prompt": "123456789", "response": "ok"}).status_code == 200
    )
    assert client.get("/v1/models").json()["limits"]["max_prompt_chars"] == 10


def test_unknown_policies_are_not_echoed_in_full(client, make_client):
    names = [f"policy-{i}-" + "z" * 90 for i in range(5000)]
    r = client.post("/v1/generate", json={"prompt": "Hi", "policies": names})
    assert_json_error(r, 422)
    assert len(r.content) < 4_000
    few = make_client(max_policies=3)
    r = few.post("/v1/generate", json={"prompt": "Hi", "policies": ["a", "b", "c", "d"]})
    assert "max_policies=3" in assert_json_error(r, 422)["detail"]
    r = few.post("/v1/generate", json={"prompt": "Hi", "policies": ["q" * 150, "b"]})
    body = assert_json_error(r, 422)
    assert "q" * 41 not in body["detail"] and "loaded: ['base', 'dpo']" in body["detail"]


def test_a_long_query_string_gets_the_json_error(client, make_client, seeded):
    r = client.get(
        f"/v1/cases?run={seeded.score_run}&q=" + "a" * 60_000
    )  # httpx caps URLs at 64 KiB
    assert "max_query_chars" in assert_json_error(r, 414)["detail"]
    short = make_client(max_query_chars=300)
    assert short.get(f"/v1/runs?kind={'s' * 280}").status_code == 200
    assert_json_error(short.get(f"/v1/runs?kind={'s' * 300}"), 414)


def test_many_validation_problems_give_a_bounded_error(client):
    body = {"prompt": "p", "response": "r", **{f"extra{i}" + "k" * 500: 1 for i in range(500)}}
    r = client.post("/v1/score", json=body)
    assert_json_error(r, 422)
    assert len(r.content) < 10_000


def test_an_unexpected_error_is_logged_once_and_not_re_raised(api_settings, tiny_rm, caplog):
    from fastapi.testclient import TestClient

    from backend.app import create_app
    from backend.deps import get_session

    app = create_app(api_settings, reward_model=tiny_rm, policies={})

    def broken():
        raise RuntimeError("store exploded at /srv/secret/db")

    app.dependency_overrides[get_session] = broken
    # raise_server_exceptions=True: an exception re-raised to the server fails the test
    with TestClient(app) as http, caplog.at_level(logging.ERROR):
        caplog.clear()
        r = http.get("/v1/runs")
    body = assert_json_error(r, 500)
    assert "secret" not in r.text and body["detail"].startswith("internal error")
    logged = [rec for rec in caplog.records if rec.exc_info]
    assert len(logged) == 1 and "RuntimeError" in caplog.text


# ------------------------------------------------------------------ f. server paths
def test_server_paths_never_leak(client, seeded, store):
    with store() as s:
        ckpt = s.get(Checkpoint, seeded.rm_checkpoint)
        ckpt.name = "/srv/preflens/models/rm-secret"
        ds = s.get(Dataset, seeded.dataset_id)
        ds.source = "../shared/data/toy.jsonl"
        s.add(Dataset(name="rel", source="data/sub/rel.jsonl", format="trl", options={}))
        s.add(
            Run(
                kind="score",
                key="k-failed",
                status="failed",
                dataset_id=ds.id,
                config={"data": "./data/input.jsonl"},
                error="FileNotFoundError: [Errno 2] No such file or directory: "
                "'/srv/preflens/data/input.jsonl' (see ~/logs/job.log; "
                "db postgresql://pl:hunter2@db:5432/p)",
            )
        )
        s.commit()
    texts = {
        path: client.get(path).text
        for path in (
            "/v1/checkpoints",
            "/v1/runs",
            "/v1/datasets",
            "/v1/datasets/toy",
            "/v1/datasets/rel",
        )
    }
    failed = client.get("/v1/runs?status=failed").json()[-1]
    texts["run"] = client.get(f"/v1/runs/{failed['id']}").text
    for path, text in texts.items():
        for leak in ("/srv", "../", "./data", "~/", "shared/", "data/sub", "hunter2"):
            assert leak not in text, (path, leak)
    assert "input.jsonl" in failed["error"] and "job.log" in failed["error"]
    assert failed["config"]["data"] == "input.jsonl"
    assert client.get("/v1/checkpoints").json()[0]["name"] == "rm-secret"
    assert client.get("/v1/datasets/toy").json()["source"] == "toy.jsonl"
    assert client.get("/v1/datasets/rel").json()["source"] == "rel.jsonl"


def test_public_keeps_names_that_are_not_paths():
    from db.read.common import public

    kept = ["train/loss", "HuggingFaceTB/SmolLM2-135M", "a / b", "1/2", "see http://host/x/y"]
    assert [public(v) for v in kept] == kept
    assert public({"m": ["/a/b/rm", "./x/y.jsonl", "sqlite:////srv/d/p.db"]}) == {
        "m": ["rm", "y.jsonl", "sqlite:///p.db"]
    }
