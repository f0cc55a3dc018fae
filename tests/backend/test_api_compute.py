"""Compute endpoints, limits, errors and access through the test client (tiny models)."""

from __future__ import annotations

import math

import pytest

from training.generation import generate_answers
from training.scoring import score_texts

PAIR = {"prompt": "What is the capital of France?", "response": "The capital of France is Paris."}


def direct(rm, prompt, response, max_length=512) -> tuple[float, int, bool]:
    messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt
    ((score, enc),) = score_texts(rm, [messages], [response], max_length=max_length)
    return score, enc.n_tokens, enc.truncated


def test_score_one_item_and_a_batch(client, tiny_rm):
    one = client.post("/v1/score", json=PAIR)
    assert one.status_code == 200
    score, n_tokens, truncated = direct(tiny_rm, PAIR["prompt"], PAIR["response"])
    body = one.json()
    assert body["score"] == pytest.approx(score, abs=1e-5)
    assert (body["n_tokens"], body["truncated"], body["model"]) == (n_tokens, False, "tiny-lm0")

    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Say hello."},
    ]
    items = [
        PAIR,
        {"prompt": messages, "response": "Hello world"},
        {"prompt": "Hi", "response": ""},
    ]
    batch = client.post("/v1/score", json={"items": items})
    assert batch.status_code == 200
    results = batch.json()["results"]
    assert len(results) == 3
    for item, result in zip(items, results, strict=True):
        assert result["score"] == pytest.approx(
            direct(tiny_rm, item["prompt"], item["response"])[0], abs=1e-5
        )
    assert results[0]["score"] == pytest.approx(body["score"], abs=1e-5)


def test_long_conversations_are_truncated_like_preflens_score(make_client, tiny_rm):
    client = make_client(score_max_length=16)
    long = {
        "prompt": "Please explain photosynthesis in simple words. " * 5,
        "response": "Sure. " * 20,
    }
    body = client.post("/v1/score", json=long).json()
    # Ingest stores responses stripped; the API strips them too, so both score the same.
    score, n_tokens, truncated = direct(
        tiny_rm, long["prompt"], long["response"].strip(), max_length=16
    )
    assert body["truncated"] and truncated and body["n_tokens"] == n_tokens == 16
    assert body["score"] == pytest.approx(score, abs=1e-5)


def test_compare_gap_probability_and_percentiles(client, seeded, store):
    from db import read

    req = {
        "prompt": "Boil an egg?",
        "response_a": "Nine minutes in boiling water.",
        "response_b": "No.",
    }
    body = client.post("/v1/compare", json={**req, "run": seeded.score_run}).json()
    a = client.post(
        "/v1/score", json={"prompt": req["prompt"], "response": req["response_a"]}
    ).json()
    assert body["score_a"] == pytest.approx(a["score"], abs=1e-5)
    assert body["gap"] == pytest.approx(body["score_a"] - body["score_b"])
    assert body["p_a_preferred"] == pytest.approx(1 / (1 + math.exp(-body["gap"])))
    with store() as s:
        assert body["percentile_a"] == read.score_percentile(s, seeded.score_run, body["score_a"])
        assert body["percentile_b"] == read.score_percentile(s, seeded.score_run, body["score_b"])
    plain = client.post("/v1/compare", json=req).json()
    assert plain["percentile_a"] is None and plain["run"] is None
    missing = client.post("/v1/compare", json={**req, "run": 999})
    assert missing.status_code == 404 and "no run with id 999" in missing.json()["detail"]


def test_generate_answers_with_each_policy_and_scores_them(client, tiny_policies, tiny_rm):
    req = {
        "prompt": "Say hello.",
        "policies": ["dpo", "base"],
        "max_new_tokens": 6,
        "temperature": 0,
    }
    body = client.post("/v1/generate", json=req).json()
    assert [r["policy"] for r in body["results"]] == ["dpo", "base"] and body["model"] == "tiny-lm0"
    (greedy,) = generate_answers(
        tiny_policies["dpo"],
        [[{"role": "user", "content": "Say hello."}]],
        max_new_tokens=6,
        temperature=0,
    )
    first = body["results"][0]
    assert first["text"] == greedy.text and first["n_tokens"] == greedy.n_tokens <= 6
    assert first["finish_reason"] == greedy.finish_reason
    assert first["score"] == pytest.approx(direct(tiny_rm, "Say hello.", greedy.text)[0], abs=1e-5)
    every = client.post(
        "/v1/generate", json={"prompt": "Hi", "max_new_tokens": 3, "temperature": 0.8, "seed": 3}
    )
    assert [r["policy"] for r in every.json()["results"]] == ["base", "dpo"]
    unknown = client.post("/v1/generate", json={"prompt": "Hi", "policies": ["sft"]})
    assert unknown.status_code == 422 and "loaded: ['base', 'dpo']" in unknown.json()["detail"]


def test_without_models_compute_routes_say_what_to_do(make_client):
    client = make_client(reward=False, policies=False)
    r = client.post("/v1/score", json=PAIR)
    assert r.status_code == 503 and "--rm" in r.json()["detail"]
    g = client.post("/v1/generate", json={"prompt": "Hi"})
    assert g.status_code == 503 and "--policy" in g.json()["detail"]


def test_generate_without_a_reward_model_has_no_scores(make_client):
    client = make_client(reward=False)
    body = client.post("/v1/generate", json={"prompt": "Hi", "max_new_tokens": 2}).json()
    assert body["model"] is None and all(r["score"] is None for r in body["results"])


# ------------------------------------------------------------------ limits
def test_over_limit_requests_get_the_documented_status_naming_the_limit(make_client):
    client = make_client(
        max_body_bytes=2048,
        max_text_chars=50,
        max_batch_items=2,
        max_new_tokens_limit=8,
        max_page_size=5,
    )
    big = client.post("/v1/score", json={"prompt": "x", "response": "y" * 3000})
    assert big.status_code == 413 and "max_body_bytes" in big.json()["detail"]

    def chunks():
        yield b'{"prompt": "x", "response": "'
        for _ in range(10):
            yield b"y" * 400
        yield b'"}'

    streamed = client.post(
        "/v1/score", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413  # no Content-Length: counted while reading

    cases = [
        ("/v1/score", {"prompt": "x", "response": "y" * 51}, "max_text_chars=50"),
        (
            "/v1/score",
            {"prompt": [{"role": "user", "content": "p" * 51}], "response": "y"},
            "max_text_chars=50",
        ),
        ("/v1/score", {"items": [PAIR, PAIR, PAIR]}, "max_batch_items=2"),
        (
            "/v1/compare",
            {"prompt": "x", "response_a": "a" * 60, "response_b": "b"},
            "max_text_chars=50",
        ),
        ("/v1/generate", {"prompt": "x", "max_new_tokens": 9}, "max_new_tokens_limit=8"),
        ("/v1/generate", {"prompt": "x" * 51}, "max_text_chars=50"),
    ]
    for path, body, limit in cases:
        r = client.post(path, json=body)
        assert r.status_code == 422 and limit in r.json()["detail"], (path, r.text)
        assert r.json()["error"] == "limit_exceeded"
    page = client.get("/v1/cases", params={"run": 1, "limit": 6})
    assert page.status_code == 422 and "max_page_size=5" in page.json()["detail"]
    ok = client.post("/v1/generate", json={"prompt": "x", "max_new_tokens": 8, "temperature": 0})
    assert ok.status_code == 200


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"prompt": "x"}, "response: Field required"),
        ({"items": []}, "at least 1 item"),
        ({"prompt": [{"role": "wizard", "content": "x"}], "response": "y"}, "role"),
        ({"prompt": [], "response": "y"}, "prompt"),
        ({"prompt": "x", "response": "y", "extra": 1}, "extra"),
    ],
)
def test_invalid_bodies_are_422_with_where_and_what(client, body, words):
    r = client.post("/v1/score", json=body)
    assert r.status_code == 422 and words in r.json()["detail"] and r.json()["errors"]


def test_malformed_json_is_a_json_422(client):
    r = client.post("/v1/score", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["error"] == "validation_error"


# ------------------------------------------------------------------ access
def test_api_key_guards_every_endpoint_but_healthz(make_client, seeded):
    client = make_client(api_key="s3cret-key")
    assert client.get("/healthz").status_code == 200
    for method, path in [
        ("get", "/readyz"),
        ("get", "/v1/runs"),
        ("get", "/docs"),
        ("get", "/openapi.json"),
        ("post", "/v1/score"),
    ]:
        missing = getattr(client, method)(path)
        assert missing.status_code == 401 and "missing API key" in missing.json()["detail"]
        assert missing.headers["www-authenticate"] == "Bearer"
        wrong = getattr(client, method)(path, headers={"Authorization": "Bearer s3cret-kez"})
        assert wrong.status_code == 401 and "wrong API key" in wrong.json()["detail"]
        basic = getattr(client, method)(path, headers={"Authorization": "Basic s3cret-key"})
        assert basic.status_code == 401
    good = {"Authorization": "Bearer s3cret-key"}
    assert client.get("/v1/runs", headers=good).status_code == 200
    assert client.post("/v1/score", json=PAIR, headers=good).status_code == 200
    schema = client.get("/openapi.json", headers=good).json()
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert schema["paths"]["/healthz"]["get"]["security"] == []


def test_cors_is_off_unless_origins_are_configured(make_client):
    preflight = {"Origin": "http://dash.example", "Access-Control-Request-Method": "POST"}
    off = make_client()
    assert "access-control-allow-origin" not in off.options("/v1/score", headers=preflight).headers
    assert (
        "access-control-allow-origin"
        not in off.get("/healthz", headers={"Origin": "http://dash.example"}).headers
    )
    on = make_client(cors_origins=["http://dash.example"], api_key="k")
    r = on.options("/v1/score", headers=preflight)  # a preflight carries no key
    assert (
        r.status_code == 200 and r.headers["access-control-allow-origin"] == "http://dash.example"
    )
    other = on.options("/v1/score", headers={**preflight, "Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def test_unexpected_errors_are_a_plain_json_500(make_client):
    from backend.deps import get_reward_service

    client = make_client()

    def broken():
        raise RuntimeError("secret detail at /srv/models/rm")

    client.app.dependency_overrides[get_reward_service] = broken
    r = client.post("/v1/score", json=PAIR)
    assert (
        r.status_code == 500
        and r.json()["detail"] == "internal error; the server log has the details"
    )
    assert "secret" not in r.text and "Traceback" not in r.text


def test_a_dependency_override_swaps_the_model(make_client):
    from backend.deps import get_reward_service
    from backend.services import Scored

    class Fixed:
        """What a reward service provides to the routes."""

        name = "fixed"
        head_initialized = False
        max_length = 512

        def matches_run(self, scorer):
            return False

        async def score(self, items):
            return [Scored(float(len(r)), 1, False) for _, r in items]

    client = make_client(reward=False)
    client.app.dependency_overrides[get_reward_service] = lambda: Fixed()
    body = client.post(
        "/v1/compare", json={"prompt": "x", "response_a": "abc", "response_b": "a"}
    ).json()
    assert (body["score_a"], body["score_b"], body["model"]) == (3.0, 1.0, "fixed")


# ------------------------------------------------------------------ health and docs
def test_health_readiness_and_models(client, make_client, tmp_path):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert ready.json()["reward_model"]["name"] == "tiny-lm0"
    models = client.get("/v1/models").json()
    assert [p["name"] for p in models["policies"]] == ["base", "dpo"]
    assert models["limits"]["score_max_length"] == 512
    nowhere = make_client(database_url=f"sqlite:///{tmp_path / 'missing' / 'none.db'}")
    down = nowhere.get("/readyz")
    assert down.status_code == 503 and down.json()["database"]["ok"] is False
    assert nowhere.get("/healthz").status_code == 200


def test_openapi_docs_have_an_example_on_every_endpoint(client):
    schema = client.get("/openapi.json").json()
    assert client.get("/docs").status_code == 200
    operations = [(p, m, op) for p, ops in schema["paths"].items() for m, op in ops.items()]
    assert len(operations) >= 18
    for path, method, op in operations:
        ok = op["responses"]["200"]["content"]["application/json"]
        assert ok.get("example"), f"{method.upper()} {path} has no example response"
        if "requestBody" in op:
            ref = op["requestBody"]["content"]["application/json"]["schema"]
            text = str(ref) + str(schema["components"]["schemas"])
            assert "examples" in text


def test_live_scores_say_whether_a_run_is_comparable(make_client, store, tmp_path, tiny_lm):
    """/v1/compare with a run says whether that run was scored by this server's RM (same
    weights fingerprint and max length); every score carries head_initialized."""
    from tests.factories import ingest_test_split, make_tiny_lm_dir
    from training.jobs.score import run_score_job

    name = ingest_test_split(store, tmp_path, "live", 3)
    client = make_client()
    max_length = client.get("/v1/models").json()["reward_model"]["max_length"]
    same = run_score_job(store, str(tiny_lm), name, "test", max_length=max_length, progress=False)
    other_lm = make_tiny_lm_dir(tmp_path / "other", seed=5)
    other = run_score_job(store, str(other_lm), name, "test", max_length=max_length, progress=False)
    shorter = run_score_job(store, str(tiny_lm), name, "test", max_length=32, progress=False)
    req = {"prompt": "Q?", "response_a": "yes", "response_b": "no"}
    body = client.post("/v1/compare", json={**req, "run": same.run.id}).json()
    assert body["run_same_model"] is True and body["head_initialized"] is True
    assert body["run_max_length"] == max_length
    assert (
        client.post("/v1/compare", json={**req, "run": other.run.id}).json()["run_same_model"]
        is False
    )
    assert (
        client.post("/v1/compare", json={**req, "run": shorter.run.id}).json()["run_same_model"]
        is False
    )
    assert client.post("/v1/compare", json=req).json()["run_same_model"] is None
    scored = client.post("/v1/score", json={"prompt": "Q?", "response": "  yes \n"}).json()
    assert scored["head_initialized"] is True
    # Surrounding whitespace is dropped as ingest drops it: the same text scores the same.
    plain = client.post("/v1/score", json={"prompt": "Q?", "response": "yes"}).json()
    assert scored["score"] == plain["score"]
