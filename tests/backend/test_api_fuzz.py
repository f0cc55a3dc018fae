"""Generated requests against every operation of the OpenAPI document (schemathesis 4
over the app with the tiny models and the seeded store): schema-valid requests and
schema-violating ones, with free ids and with ids of runs and pairs that exist. No
answer may be a 5xx, every error is the documented JSON body, and every 200 matches its
response model.

    pytest tests/backend/test_api_fuzz.py            # >= 1,000 requests, ~1-2 min
    pytest tests/backend/test_api_fuzz.py -m slow    # >= 10,000 requests
"""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

import hypothesis.strategies as st
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

ERROR_KEYS = {"status", "error", "detail"}
SECONDS: Counter = Counter()  # time in the app per operation (for tuning the budget)


@pytest.fixture
def fuzz_app(api_settings, seeded, tiny_rm, tiny_policies):
    """The app with cheap limits: generation of at most 2 tokens, short texts, small
    batches, so thousands of requests fit in a couple of minutes on two cores."""
    from backend.app import create_app

    fast = api_settings.model_copy(
        update={
            "max_new_tokens_limit": 2,
            "max_text_chars": 500,
            "max_prompt_chars": 1000,
            "max_batch_items": 4,
            "score_max_length": 64,
            "batch_wait_ms": 0.0,
        }
    )
    return create_app(fast, reward_model=tiny_rm, policies=tiny_policies)


def _known_ids(seeded) -> dict[str, list[int]]:
    runs = [seeded.score_run, seeded.train_run, seeded.generate_run, seeded.gen_score_run]
    return {"run": runs, "pair": seeded.pair_ids[:10]}


def _strategies(operation, ids: dict[str, list[int]]) -> list[tuple[str, Any]]:
    """(label, strategy) per way of generating requests for one operation."""
    out = [
        ("positive", operation.as_strategy(generation_mode=GenerationMode.POSITIVE)),
        ("negative", operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)),
    ]
    path_names = [p.name for p in operation.path_parameters]
    query_names = [p.name for p in operation.query]
    run_path = [n for n in path_names if n.startswith("run")]
    if run_path or "run" in query_names or "pair_id" in path_names:

        def with_ids(run_id: int, pair_id: int):
            path = {n: run_id for n in run_path}
            if "pair_id" in path_names:
                path["pair_id"] = pair_id
            query = {"run": run_id} if "run" in query_names else None
            return operation.as_strategy(
                generation_mode=GenerationMode.POSITIVE, path_parameters=path, query=query
            )

        out.append(
            (
                "known ids",
                st.builds(
                    with_ids, st.sampled_from(ids["run"]), st.sampled_from(ids["pair"])
                ).flatmap(lambda s: s),
            )
        )
    return out


def _check(case, response, mode: str, problems: list[str]) -> None:
    label = f"{case.operation.label} [{mode}]"
    status = response.status_code
    if status >= 500:
        problems.append(
            f"{label}: {status} {response.text[:300]} for {case.path_parameters} "
            f"{case.query} {str(case.body)[:200]}"
        )
        return
    if status >= 400:
        try:
            body = response.json()
        except json.JSONDecodeError:
            problems.append(f"{label}: {status} not JSON: {response.text[:200]}")
            return
        if not (isinstance(body, dict) and ERROR_KEYS <= set(body) and body["status"] == status):
            problems.append(f"{label}: {status} body not the error shape: {str(body)[:200]}")
        return
    if status == 200 and mode != "negative":
        try:
            case.validate_response(response, checks=[response_schema_conformance])
        except AssertionError as exc:
            problems.append(f"{label}: 200 does not match its schema: {str(exc)[:300]}")


def _runner(strategy, mode: str, n: int, counts: Counter, problems: list[str]):
    """A Hypothesis test sending ``n`` generated requests and checking each answer."""

    @settings(
        max_examples=n,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case) -> None:
        started = time.monotonic()
        response = case.call()
        counts[case.operation.label] += 1
        SECONDS[case.operation.label] += time.monotonic() - started
        _check(case, response, mode, problems)

    return run


def fuzz(app, seeded, per_strategy: int) -> tuple[Counter, list[str], float]:
    """Run ``per_strategy`` examples of each way of generating for every operation."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    ids = _known_ids(seeded)
    counts: Counter = Counter()
    problems: list[str] = []
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode, strategy in _strategies(operation, ids):
            test = _runner(strategy, mode, per_strategy, counts, problems)
            try:
                test()
            except Unsatisfiable:  # e.g. no schema-violating request exists for it
                pass
    return counts, problems, time.monotonic() - started


def _report(counts: Counter, problems: list[str]) -> str:
    head = "\n".join(sorted(set(problems))[:30])
    return f"{len(problems)} problems in {sum(counts.values())} requests:\n{head}"


def test_generated_requests_never_get_a_5xx(fuzz_app, seeded):
    counts, problems, seconds = fuzz(fuzz_app, seeded, per_strategy=18)
    assert not problems, _report(counts, problems)
    assert sum(counts.values()) >= 1000, counts
    # every operation of the document was exercised
    assert len(counts) == len(fuzz_app.openapi()["paths"]) or len(counts) >= 25, counts
    print(f"{sum(counts.values())} requests over {len(counts)} operations in {seconds:.0f} s")
    print({k: (counts[k], round(v, 1)) for k, v in SECONDS.most_common(8)})


@pytest.mark.slow
def test_many_generated_requests_never_get_a_5xx(fuzz_app, seeded):
    counts, problems, _ = fuzz(fuzz_app, seeded, per_strategy=180)
    assert not problems, _report(counts, problems)
    assert sum(counts.values()) >= 10_000, counts
