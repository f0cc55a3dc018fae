"""Micro-batching: concurrent score requests share forward passes.

Requests put their sequences on a pending list and await one future per sequence. A
single worker task takes the first pending sequence, waits up to ``wait_ms`` for more
(or until ``max_batch`` sequences are pending), and hands them to ``score_fn`` in a worker
thread, so the event loop never blocks (the reward service runs each gathered batch as
one or a few forward passes of similar lengths). Each result is the score of its own
sequence: the scorer reads each row's last real token from the attention mask, so a
sequence scores the same alone or padded in a batch (within float rounding).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

ScoreFn = Callable[[list[Any]], np.ndarray]


class QueueFullError(RuntimeError):
    """The batcher already holds ``max_pending`` waiting sequences: try again later."""


@dataclass
class _Job:
    item: Any
    future: asyncio.Future


class ScoreBatcher:
    """Gathers items from concurrent callers into shared calls of ``score_fn``.

    ``score_fn(items)`` scores a gathered list and returns one float per item, in order.
    ``batches`` and ``items_scored`` count its calls and items, so tests and ``/readyz``
    can see the sharing.
    """

    def __init__(
        self,
        score_fn: ScoreFn,
        *,
        max_batch: int = 32,
        wait_ms: float = 5.0,
        max_pending: int | None = None,
    ):
        self._score_fn = score_fn
        self.max_batch = max(1, max_batch)
        # The queue is bounded: sequences waiting to be scored plus the weight of waiting
        # exclusive jobs (per-token passes); past it a caller gets QueueFullError.
        self.max_pending = max_pending
        self._exclusive_waiting = 0
        self.wait_s = max(0.0, wait_ms) / 1000
        self.batches = 0
        self.items_scored = 0
        self._pending: list[_Job] = []
        self._arrived = asyncio.Event()
        self._full = asyncio.Event()
        self._task: asyncio.Task | None = None
        # One thread: passes never overlap, and torch keeps its own intra-op threads.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="score-batch")

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="score-batcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        for job in self._pending:
            if not job.future.done():
                job.future.set_exception(RuntimeError("the server is shutting down"))
        self._pending.clear()
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def score(self, items: Sequence[Any]) -> list[float]:
        """Scores of ``items``, in order, computed in passes shared with other callers."""
        if self._task is None:
            raise RuntimeError("the score batcher is not running")
        self._admit(len(items))
        loop = asyncio.get_running_loop()
        jobs = [_Job(item, loop.create_future()) for item in items]
        self._pending.extend(jobs)
        self._arrived.set()
        if len(self._pending) >= self.max_batch:
            self._full.set()
        return list(await asyncio.gather(*(job.future for job in jobs)))

    async def run_exclusive(self, fn: Callable[..., Any], *args: Any, weight: int = 1) -> Any:
        """``fn(*args)`` on the batcher's one worker thread: it waits for the pass in
        progress and runs before later batches, so heavy work beside scoring (per-token
        values) never overlaps a scoring pass or another such call. ``weight`` is what it
        counts against ``max_pending`` while it waits and runs."""
        if self._task is None:
            raise RuntimeError("the score batcher is not running")
        self._admit(weight)
        self._exclusive_waiting += weight
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
        finally:
            self._exclusive_waiting -= weight

    @property
    def waiting(self) -> int:
        """Sequences pending plus the weight of exclusive jobs not yet finished."""
        return len(self._pending) + self._exclusive_waiting

    def _admit(self, n: int) -> None:
        if self.max_pending is not None and self.waiting + n > self.max_pending:
            raise QueueFullError(
                f"the scoring queue holds {self.waiting} of {self.max_pending} sequences; "
                f"{n} more do not fit"
            )

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._arrived.wait()
            if len(self._pending) < self.max_batch and self.wait_s > 0:
                try:
                    async with asyncio.timeout(self.wait_s):
                        await self._full.wait()
                except TimeoutError:
                    pass
            batch = [job for job in self._pending[: self.max_batch] if not job.future.done()]
            del self._pending[: self.max_batch]
            if len(self._pending) < self.max_batch:
                self._full.clear()
            if not self._pending:
                self._arrived.clear()
            if not batch:
                continue
            try:
                scores = await loop.run_in_executor(
                    self._executor, self._score_fn, [job.item for job in batch]
                )
            except Exception as exc:  # every waiting request gets the error, the loop goes on
                log.exception("scoring a batch of %d failed", len(batch))
                for job in batch:
                    if not job.future.done():
                        job.future.set_exception(exc)
                continue
            self.batches += 1
            self.items_scored += len(batch)
            for job, score in zip(batch, scores, strict=True):
                if not job.future.done():
                    job.future.set_result(float(score))
