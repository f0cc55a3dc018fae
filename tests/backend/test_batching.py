"""The micro-batcher: concurrent score requests share forward passes and get the same
scores as scored one at a time."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from backend.batching import ScoreBatcher
from backend.services import RewardService
from training.scoring import encode, score_encoded

PROMPTS = [f"Question {i}: what is {i} plus {i}?" + " Please explain." * (i % 3) for i in range(16)]
RESPONSES = [f"{i} plus {i} is {2 * i}." + " That is the answer." * (i % 4) for i in range(16)]


def run(coro):
    return asyncio.run(coro)


def test_concurrent_callers_share_one_call():
    calls = []

    def fn(items):
        calls.append(list(items))
        return np.array([x * 10.0 for x in items])

    async def main():
        batcher = ScoreBatcher(fn, max_batch=32, wait_ms=50)
        await batcher.start()
        try:
            results = await asyncio.gather(*(batcher.score([i, i + 100]) for i in range(16)))
        finally:
            await batcher.stop()
        return batcher, results

    batcher, results = run(main())
    assert results == [[i * 10.0, (i + 100) * 10.0] for i in range(16)]
    assert batcher.batches == len(calls) == 1 and batcher.items_scored == 32


def test_batches_are_capped_and_errors_reach_every_waiting_caller():
    sizes = []

    def fn(items):
        sizes.append(len(items))
        if -1 in items:
            raise ValueError("bad item")
        return np.zeros(len(items))

    async def main():
        batcher = ScoreBatcher(fn, max_batch=4, wait_ms=20)
        await batcher.start()
        try:
            ok = await asyncio.gather(*(batcher.score([i]) for i in range(10)))
            failed = await asyncio.gather(
                batcher.score([-1]), batcher.score([1]), return_exceptions=True
            )
            after = await batcher.score([5])  # the worker goes on after a failed pass
        finally:
            await batcher.stop()
        return ok, failed, after

    ok, failed, after = run(main())
    assert len(ok) == 10 and max(sizes[:3]) <= 4 and sum(sizes[:3]) == 10
    assert all(isinstance(f, ValueError) for f in failed) and after == [0.0]


def test_a_cancelled_caller_does_not_disturb_the_others():
    async def main():
        batcher = ScoreBatcher(lambda items: np.ones(len(items)), max_batch=8, wait_ms=30)
        await batcher.start()
        try:
            doomed = asyncio.ensure_future(batcher.score([1, 2]))
            kept = asyncio.ensure_future(batcher.score([3]))
            await asyncio.sleep(0)
            doomed.cancel()
            return await kept
        finally:
            await batcher.stop()

    assert run(main()) == [1.0]


def alone(rm, max_length=512):
    return [
        float(
            score_encoded(
                rm, [encode(rm.tokenizer, [{"role": "user", "content": p}], r, max_length)]
            )[0]
        )
        for p, r in zip(PROMPTS, RESPONSES, strict=True)
    ]


def test_sixteen_concurrent_requests_fewer_passes_same_scores(tiny_rm):
    async def main():
        service = RewardService(tiny_rm, max_length=512, max_batch=32, wait_ms=50)
        await service.batcher.start()
        try:
            results = await asyncio.gather(
                *(
                    service.score([([{"role": "user", "content": p}], r)])
                    for p, r in zip(PROMPTS, RESPONSES, strict=True)
                )
            )
        finally:
            await service.batcher.stop()
        return service.forward_passes, [r[0].score for r in results]

    passes, scores = run(main())
    assert passes < 16
    np.testing.assert_allclose(scores, alone(tiny_rm), atol=1e-5)


def test_sixteen_concurrent_http_requests_share_passes(make_client, tiny_rm):
    client = make_client(batch_wait_ms=200, batch_max_size=64)

    def post(i):
        r = client.post("/v1/score", json={"prompt": PROMPTS[i], "response": RESPONSES[i]})
        assert r.status_code == 200
        return r.json()["score"]

    with ThreadPoolExecutor(16) as pool:
        scores = list(pool.map(post, range(16)))
    reward = client.app.state.reward
    assert reward.batcher.items_scored == 16 and reward.forward_passes < 16
    counts = client.get("/readyz").json()["batcher"]
    assert counts["forward_passes"] == reward.forward_passes
    assert counts["batches"] == reward.batcher.batches <= reward.forward_passes
    np.testing.assert_allclose(scores, alone(tiny_rm), atol=1e-5)
    one_by_one = [post(i) for i in range(16)]
    np.testing.assert_allclose(scores, one_by_one, atol=1e-5)


@pytest.mark.parametrize("wait_ms", [0.0])
def test_no_wait_still_scores_everything(tiny_rm, wait_ms):
    async def main():
        service = RewardService(tiny_rm, max_length=512, max_batch=3, wait_ms=wait_ms)
        await service.batcher.start()
        try:
            items = [
                ([{"role": "user", "content": p}], r)
                for p, r in zip(PROMPTS, RESPONSES, strict=True)
            ]
            return await service.score(items), service.batcher.batches
        finally:
            await service.batcher.stop()

    scored, batches = run(main())
    assert batches == 6  # 16 items, at most 3 per gathered batch
    np.testing.assert_allclose([s.score for s in scored], alone(tiny_rm), atol=1e-5)


def test_a_gathered_batch_of_mixed_lengths_runs_as_passes_of_similar_length(tiny_rm):
    """Four short requests and one long one arrive together: the long one gets a pass of
    its own (padding the short ones to its length would cost more than a pass), the
    short ones share one, and every score equals the score alone."""
    short = [([{"role": "user", "content": f"Hi {i}"}], f"Hello {i}.") for i in range(4)]
    long = ([{"role": "user", "content": "Tell me a story."}], "Once upon a time. " * 60)
    items = [*short[:2], long, *short[2:]]

    async def main():
        service = RewardService(tiny_rm, max_length=512, max_batch=32, wait_ms=100)
        await service.batcher.start()
        try:
            results = await asyncio.gather(*(service.score([it]) for it in items))
        finally:
            await service.batcher.stop()
        return service, [r[0].score for r in results]

    service, scores = run(main())
    assert service.batcher.batches == 1 and service.forward_passes == 2
    expected = [
        float(score_encoded(tiny_rm, [encode(tiny_rm.tokenizer, p, r, 512)])[0]) for p, r in items
    ]
    np.testing.assert_allclose(scores, expected, atol=1e-5)
