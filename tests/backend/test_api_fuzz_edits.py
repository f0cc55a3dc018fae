"""Schemathesis on the two routes that run user-shaped work: ``POST /v1/probe`` (custom
edits generated from their schema, plus hostile regex edits drawn by Hypothesis) and
``POST /v1/score`` with per-token values. No 5xx, every error the documented JSON shape,
every 200 its schema, and no request slow (kept small: ~100 requests, a few seconds)."""

from __future__ import annotations

import time
from collections import Counter

import hypothesis.strategies as st
import schemathesis
from hypothesis import HealthCheck, given, settings

# fuzz_app: the fuzz suite's app (cheap limits, tiny models), used as a fixture here
from tests.backend.test_api_fuzz import _report, _runner, _strategies, fuzz_app  # noqa: F401

ROUTES = {("POST", "/v1/probe"), ("POST", "/v1/score")}
PER_STRATEGY = 10
REGEX_PIECES = ["(", ")", "a", "+", "*", "|", "$", "^", "\\", "1", "9", "g<", ">", "q", "u", "x0",
                "0", "?", "{", "}", "[", "]", ".", "\x00", "é"]  # fmt: skip


def test_probe_and_per_token_routes_hold_under_generated_requests(fuzz_app, seeded):  # noqa: F811
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)
    counts: Counter = Counter()
    problems: list[str] = []
    seen = set()
    for result in schema.get_all_operations():
        op = result.ok()
        if (op.method.upper(), op.path) not in ROUTES:
            continue
        seen.add((op.method.upper(), op.path))
        for mode, strategy in _strategies(op, {"run": [1], "pair": [1]}):
            _runner(strategy, mode, PER_STRATEGY, counts, problems)()
    assert seen == ROUTES
    assert not problems, _report(counts, problems)


def test_hostile_regex_edits_get_a_2xx_or_4xx_quickly(fuzz_app):  # noqa: F811
    from fastapi.testclient import TestClient

    piece = st.sampled_from(REGEX_PIECES)
    text = st.lists(piece, max_size=12).map("".join)
    slowest = [0.0]
    with TestClient(fuzz_app, raise_server_exceptions=False) as client:

        @settings(max_examples=30, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        @given(pattern=text, replacement=text, chosen=st.text(alphabet="a!", max_size=60))
        def run(pattern, replacement, chosen):
            edit = {"name": "h", "op": "regex", "pattern": pattern, "replacement": replacement}
            body = {"prompt": "p", "chosen": chosen or "a", "rejected": "r", "edits": [],
                    "custom_edits": [edit]}  # fmt: skip
            started = time.monotonic()
            res = client.post("/v1/probe", json=body)
            slowest[0] = max(slowest[0], time.monotonic() - started)
            assert res.status_code in (200, 422), res.text[:300]
            if res.status_code == 422:
                assert {"status", "error", "detail"} <= set(res.json())

        run()
    assert slowest[0] < 5
