"""Per-token scoring is bounded: a per-request token budget (422 beyond it), passes on
the score batcher's one thread (never beside a scoring pass or another per-token
request), split into passes of bounded size."""

from __future__ import annotations

import asyncio
import threading
import time

import numpy as np
import pytest

from backend.batching import ScoreBatcher
from training.token_rewards import _passes, per_token_rewards

LONG = "This sentence is rather long and says very little. " * 40


def test_per_token_requests_beyond_the_budget_get_a_422(make_client, tiny_rm):
    client = make_client(max_per_token_tokens=300)
    items = [{"prompt": "Hi", "response": LONG, "per_token": True} for _ in range(3)]
    res = client.post("/v1/score", json={"items": items})
    assert res.status_code == 422, res.text
    assert "PREFLENS_MAX_PER_TOKEN_TOKENS" in res.json()["detail"]
    # the budget counts only the items that ask for per-token values
    plain = [{"prompt": "Hi", "response": LONG} for _ in range(3)]
    assert client.post("/v1/score", json={"items": plain}).status_code == 200
    one = client.post("/v1/score", json={"prompt": "Hi", "response": "Short.", "per_token": True})
    assert one.status_code == 200 and one.json()["tokens"]


def test_split_passes_give_the_values_of_one_pass(tiny_rm):
    prompts = [[{"role": "user", "content": f"Q{i}"}] for i in range(5)]
    responses = [LONG[: 40 * (i + 1)] for i in range(5)]
    whole = per_token_rewards(tiny_rm, prompts, responses, max_length=128)
    split = per_token_rewards(tiny_rm, prompts, responses, max_length=128, max_pass_tokens=100)
    for a, b in zip(whole, split, strict=True):
        assert [t.text for t in a.tokens] == [t.text for t in b.tokens]
        np.testing.assert_allclose(
            [t.value for t in a.tokens], [t.value for t in b.tokens], atol=1e-4
        )


def test_passes_respect_the_padded_token_cap():
    lengths = [10, 50, 20, 20, 90, 5, 5, 5]
    groups = _passes(lengths, 100)
    assert sorted(i for g in groups for i in g) == list(range(len(lengths)))
    for g in groups:
        assert len(g) == 1 or max(lengths[i] for i in g) * len(g) <= 100


def test_exclusive_work_never_overlaps_a_scoring_pass():
    spans: list[tuple[str, float, float, str]] = []

    def score_fn(items):
        t0 = time.monotonic()
        time.sleep(0.02)
        spans.append(("score", t0, time.monotonic(), threading.current_thread().name))
        return np.zeros(len(items))

    def heavy(tag):
        t0 = time.monotonic()
        time.sleep(0.03)
        spans.append((tag, t0, time.monotonic(), threading.current_thread().name))
        return tag

    async def main():
        batcher = ScoreBatcher(score_fn, max_batch=2, wait_ms=0)
        await batcher.start()
        try:
            jobs = [batcher.score([i]) for i in range(6)]
            jobs += [batcher.run_exclusive(heavy, f"t{i}") for i in range(4)]
            return await asyncio.gather(*jobs)
        finally:
            await batcher.stop()

    results = asyncio.run(main())
    assert results[6:] == ["t0", "t1", "t2", "t3"]
    assert {s[3] for s in spans} == {spans[0][3]}  # one thread for both kinds of work
    ordered = sorted(spans, key=lambda s: s[1])
    for a, b in zip(ordered, ordered[1:], strict=False):
        assert a[2] <= b[1] + 1e-3  # no overlap


def test_the_queue_is_bounded_for_scores_and_per_token_work():
    from backend.batching import QueueFullError

    async def main():
        batcher = ScoreBatcher(lambda items: np.zeros(len(items)), max_batch=8, max_pending=3)
        await batcher.start()
        try:
            with pytest.raises(QueueFullError):
                await batcher.score([1, 2, 3, 4])
            with pytest.raises(QueueFullError):
                await batcher.run_exclusive(lambda: None, weight=4)
            assert await batcher.score([1, 2, 3]) == [0.0, 0.0, 0.0]
            assert await batcher.run_exclusive(lambda: "ok", weight=3) == "ok"
            assert batcher.waiting == 0
        finally:
            await batcher.stop()

    asyncio.run(main())


def test_a_full_queue_is_a_503_naming_the_setting(make_client, tiny_rm):
    client = make_client(batch_max_pending=2)
    items = [{"prompt": "Hi", "response": f"Answer {i}."} for i in range(3)]
    res = client.post("/v1/score", json={"items": items})
    assert res.status_code == 503 and "PREFLENS_BATCH_MAX_PENDING" in res.json()["detail"]
    assert client.post("/v1/score", json={"items": items[:2]}).status_code == 200
    per = [{**i, "per_token": True} for i in items]
    res = client.post("/v1/score", json={"items": per[:2], "per_token": True})
    assert res.status_code == 200  # 2 scored, then 2 per-token items: each within the bound
