"""`preflens serve` as a real uvicorn process, and API scores equal `preflens score`."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from http.client import HTTPConnection

import httpx
import pytest
from sqlalchemy import select

from db.schema import Pair, PairScore
from preflens.cli.options import parse_policies
from preflens.errors import PrefLensError
from tests.conftest import REPO
from tests.factories import trl_rows, write_jsonl
from tests.serving import preflens_serve


def test_policy_arguments():
    assert parse_policies(["base=smollm2-135m-instruct", " dpo = ./ckpt/dpo "]) == {
        "base": "smollm2-135m-instruct",
        "dpo": "./ckpt/dpo",
    }
    for bad in (["nomodel"], ["=x"], ["a=1", "a=2"]):
        with pytest.raises(PrefLensError):
            parse_policies(bad)


def test_serve_help_lists_its_options():
    out = subprocess.run(
        [sys.executable, "-m", "preflens", "serve", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
    ).stdout
    for option in ("--rm", "--policy", "--host", "--port", "--head-seed", "--max-length"):
        assert option in out


@pytest.fixture
def served(tiny_lm, tmp_path):
    """`preflens serve` with the tiny model as RM and policy, on a free port (port 0)."""
    env = {**os.environ, "PREFLENS_BATCH_WAIT_MS": "100", "PREFLENS_API_KEY": "k3y"}
    args = ["--rm", str(tiny_lm), "--policy", f"tiny={tiny_lm}", "--max-length", "200"]
    with preflens_serve(args, env) as url:
        yield url


def test_real_uvicorn_serves_http(served, tiny_rm):
    from training.scoring import score_texts

    auth = {"Authorization": "Bearer k3y"}
    with httpx.Client(base_url=served, timeout=60) as http:
        assert http.get("/healthz").json() == {"status": "ok"}
        assert http.get("/readyz").status_code == 401
        # a 100 KB query string reaches the app: 414 with the JSON body, not uvicorn's
        # plain-text 400 (http.client: httpx refuses URLs over 64 KiB itself)
        host, port = served.removeprefix("http://").split(":")
        conn = HTTPConnection(host, int(port), timeout=60)
        conn.request("GET", "/v1/runs?q=" + "a" * 100_000, headers=auth)
        long = conn.getresponse()
        assert long.status == 414 and json.loads(long.read())["error"] == "limit_exceeded"
        conn.close()
        ready = http.get("/readyz", headers=auth).json()
        assert ready["status"] == "ready" and ready["policies"][0]["name"] == "tiny"
        models = http.get("/v1/models", headers=auth).json()  # serve --max-length 200
        assert models["reward_model"]["max_length"] == models["limits"]["score_max_length"] == 200
        pair = {"prompt": "Is water wet?", "response": "Water makes things wet."}
        body = http.post("/v1/score", json=pair, headers=auth).json()
        ((expected, _),) = score_texts(
            tiny_rm, [[{"role": "user", "content": pair["prompt"]}]], [pair["response"]]
        )
        assert body["score"] == pytest.approx(expected, abs=1e-5) and body["model"] == "tiny-lm0"
        gen = http.post(
            "/v1/generate", json={"prompt": "Hi", "max_new_tokens": 4}, headers=auth
        ).json()
        assert gen["results"][0]["policy"] == "tiny" and gen["results"][0]["finish_reason"] in (
            "stop",
            "length",
        )

    async def sixteen():
        async with httpx.AsyncClient(base_url=served, timeout=60, headers=auth) as client:
            items = [
                {"prompt": f"Question {i}?", "response": f"Answer {i}." * (i % 5 + 1)}
                for i in range(16)
            ]
            replies = await asyncio.gather(*(client.post("/v1/score", json=it) for it in items))
            return items, [r.json()["score"] for r in replies], (await client.get("/readyz")).json()

    items, scores, ready = asyncio.run(sixteen())
    assert ready["batcher"]["forward_passes"] < ready["batcher"]["items_scored"]
    for item, score in zip(items, scores, strict=True):
        ((expected, _),) = score_texts(
            tiny_rm, [[{"role": "user", "content": item["prompt"]}]], [item["response"]]
        )
        assert score == pytest.approx(expected, abs=1e-5)


def api_equals_job(store, db_url, model, tmp_path, make_app_client, rows):
    from training.jobs.ingest import ingest
    from training.jobs.score import run_score_job

    ingest(store, write_jsonl(tmp_path / "p.jsonl", rows), name="p", split="test", progress=False)
    run = run_score_job(store, model, "p", "test", progress=False).run
    client = make_app_client()
    with store() as s:
        stored = s.execute(
            select(
                Pair.prompt,
                Pair.chosen,
                Pair.rejected,
                PairScore.score_chosen,
                PairScore.score_rejected,
            )
            .join(PairScore, PairScore.pair_id == Pair.id)
            .where(PairScore.run_id == run.id)
        ).all()
    assert len(stored) == len(rows)
    items = [{"prompt": p, "response": r} for p, c, rj, _, _ in stored for r in (c, rj)]
    results = client.post("/v1/score", json={"items": items}).json()["results"]
    expected = [s for *_, sc, sr in stored for s in (sc, sr)]
    assert [r["score"] for r in results] == pytest.approx(expected, abs=1e-5)
    one = client.post("/v1/score", json={"prompt": stored[0][0], "response": stored[0][1]}).json()
    assert one["score"] == pytest.approx(stored[0][3], abs=1e-5)


def test_api_score_equals_preflens_score(store, db_url, tiny_lm, tiny_rm, make_client, tmp_path):
    api_equals_job(store, db_url, str(tiny_lm), tmp_path, make_client, trl_rows(6))


def test_api_score_equals_preflens_score_with_the_embedded_model(
    store, db_url, embedded_model, tmp_path, api_settings
):
    """The embedded model as RM through `create_app`'s own loading (the `serve` path)."""
    from fastapi.testclient import TestClient

    from backend.app import create_app
    from preflens.config import EMBEDDED_MODEL_ALIAS
    from training.demo_data import build_demo_pairs

    rows = [p for p in build_demo_pairs() if p["split"] == "test"][:3]
    clients = []

    def make_app_client():
        app = create_app(api_settings.model_copy(update={"api_rm": EMBEDDED_MODEL_ALIAS}))
        clients.append(TestClient(app).__enter__())
        return clients[-1]

    try:
        api_equals_job(store, db_url, EMBEDDED_MODEL_ALIAS, tmp_path, make_app_client, rows)
        assert clients[0].get("/v1/models").json()["reward_model"]["name"] == EMBEDDED_MODEL_ALIAS
    finally:
        for client in clients:
            client.__exit__(None, None, None)


def test_serve_with_a_damaged_model_is_one_line_and_exit_2(tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "config.json").write_text("{not json")
    proc = subprocess.run(
        [sys.executable, "-m", "preflens", "serve", "--rm", str(bad), "--port", "0"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr[-1000:]
    assert "Traceback" not in proc.stderr and proc.stderr.strip().startswith("error:")
