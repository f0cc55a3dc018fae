"""The loaded models behind the compute routes: a reward service (scoring through the
micro-batcher) and a generation service (one lock per policy).

Scoring is exactly ``preflens score``'s: ``training.scoring.encode`` (chat template, keep
the last ``max_length`` tokens) and ``training.scoring.score_encoded``, so a pair scored
here and by the job gets the same score.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import anyio.to_thread

from backend.batching import QueueFullError, ScoreBatcher
from backend.errors import ApiError
from db.read.common import public
from preflens.config import EMBEDDED_MODEL_ALIAS, Settings
from preflens.fingerprint import model_fingerprint
from training.generation import Answer, generate_answers
from training.loading import Policy, RewardModel, load_policy, load_reward_model
from training.scoring import Encoded, Messages, encode, padding_aware_batches, score_encoded

log = logging.getLogger(__name__)


def display_name(spec: str) -> str:
    """How a model is named to clients: the alias or hub id as given, a folder or file by
    its last path component (the server's directory layout stays private)."""
    path = Path(spec).expanduser()
    if spec == EMBEDDED_MODEL_ALIAS or not (path.exists() or spec.startswith((".", "/", "~"))):
        return spec
    return path.name


# What a forward pass costs before its first token, in tokens' worth of compute, and the
# largest pass worth running, both from the 2-core CPU of bench/RESULTS.md ("what one
# forward pass costs"): a batch-1 pass of 16 tokens took 121 ms against about 2 ms per
# token in a full pass (reading the weights dominates a short pass), and passes of 500 to
# 1,500 padded tokens ran fastest per token (3,072 ran 27% slower). A gathered batch is
# split where padding would waste more than a pass's overhead saves.
CPU_PASS_OVERHEAD_TOKENS = 64.0
CPU_MAX_PASS_TOKENS = 2048


def busy(exc: QueueFullError) -> ApiError:
    """503 for a full scoring queue (``PREFLENS_BATCH_MAX_PENDING``): retry later."""
    return ApiError(503, f"{exc} (PREFLENS_BATCH_MAX_PENDING); retry shortly", "busy")


def release_freed_memory() -> None:
    """Hand freed heap pages back to the system (glibc keeps them otherwise, so a large
    per-token pass would leave the server's RSS high long after its tensors are gone)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to do
        return
    libc.malloc_trim(0)


@dataclass(frozen=True)
class Scored:
    score: float
    n_tokens: int
    truncated: bool


class RewardService:
    """Scores (prompt messages, response) items with one reward model, batching callers."""

    def __init__(
        self,
        rm: RewardModel,
        *,
        max_length: int,
        max_batch: int,
        wait_ms: float,
        max_pending: int | None = None,
    ):
        self.rm = rm
        self.name = display_name(rm.spec)
        self.max_length = max_length
        # What identifies these weights in the store: a run scored by the same fingerprint
        # (and max length) is comparable with this server's scores.
        self.fingerprint = model_fingerprint(rm.path)
        # Tokenizers are not documented as thread-safe; encoding is cheap next to a pass.
        self._encode_lock = threading.Lock()
        self.batcher = ScoreBatcher(
            self._forward, max_batch=max_batch, wait_ms=wait_ms, max_pending=max_pending
        )
        # On a GPU a pass's fixed cost dwarfs padding: a gathered batch stays one pass.
        self.pass_overhead_tokens = (
            float("inf") if rm.device.type == "cuda" else CPU_PASS_OVERHEAD_TOKENS
        )
        self.forward_passes = 0

    def _forward(self, encoded: list[Encoded]) -> list[float]:
        """Scores of a gathered batch, run as passes of similar lengths (the batcher's one
        worker thread calls this, so the counter needs no lock)."""
        scores = [0.0] * len(encoded)
        groups = padding_aware_batches(
            [e.n_tokens for e in encoded],
            len(encoded),
            self.pass_overhead_tokens,
            None if self.rm.device.type == "cuda" else CPU_MAX_PASS_TOKENS,
        )
        for group in groups:
            part = [encoded[i] for i in group]
            for i, s in zip(group, score_encoded(self.rm, part, batch_size=len(part)), strict=True):
                scores[i] = float(s)
        self.forward_passes += len(groups)
        return scores

    def encode_all(self, items: Sequence[tuple[Messages, str]]) -> list[Encoded]:
        with self._encode_lock:
            return [encode(self.rm.tokenizer, p, r, self.max_length) for p, r in items]

    async def score(self, items: Sequence[tuple[Messages, str]]) -> list[Scored]:
        """Score items (tokenized in a worker thread, scored in shared passes)."""
        encoded = await anyio.to_thread.run_sync(self.encode_all, items)
        try:
            scores = await self.batcher.score(encoded)
        except QueueFullError as exc:
            raise busy(exc) from None
        return [Scored(s, e.n_tokens, e.truncated) for s, e in zip(scores, encoded, strict=True)]

    def encode_per_token(self, items: Sequence[tuple[Messages, str]]) -> list:
        """Items tokenized for per-token values (cut like scores); ``len(e.ids)`` each."""
        from training.token_rewards import encode_items

        with self._encode_lock:
            return encode_items(
                self.rm.tokenizer, [p for p, _ in items], [r for _, r in items], self.max_length
            )

    async def per_token(self, encoded: list) -> list:
        """Per-token values of encoded items, computed on the batcher's worker thread
        (serialised with scoring passes and other per-token requests), in passes of at
        most ``CPU_MAX_PASS_TOKENS`` padded tokens on a CPU."""
        try:
            return await self.batcher.run_exclusive(
                self._per_token_passes, encoded, weight=len(encoded)
            )
        except QueueFullError as exc:
            raise busy(exc) from None

    def _per_token_passes(self, encoded: list) -> list:
        from training.token_rewards import values_of_encoded

        cap = None if self.rm.device.type == "cuda" else CPU_MAX_PASS_TOKENS
        try:
            return values_of_encoded(self.rm, encoded, max_pass_tokens=cap)
        finally:
            release_freed_memory()

    def describe(self) -> dict:
        return {
            "name": self.name,
            "device": str(self.rm.device),
            "head_initialized": self.rm.head_initialized,
            "head_seed": self.rm.head_seed,
            "rm_layout": public(self.rm.describe()),
            "max_length": self.max_length,
            "fingerprint": self.fingerprint,
        }

    @property
    def head_initialized(self) -> bool:
        """The RM had no trained head (initialised from a seed): its scores are noise."""
        return self.rm.head_initialized

    def matches_run(self, scorer: dict) -> bool:
        """Whether a run's scores came from this model at this max length (same weights
        fingerprint; for an untrained head, the same head seed)."""
        same = scorer.get("model_fingerprint") == self.fingerprint
        if self.rm.head_initialized:
            same = same and scorer.get("head_seed") == self.rm.head_seed
        return same and scorer.get("max_length") == self.max_length


class GenerationService:
    """Loaded policies; each generates one request at a time (an asyncio lock per policy,
    so waiting requests hold no thread), in a worker thread."""

    def __init__(self, policies: Mapping[str, Policy]):
        self.policies = dict(policies)
        self._locks = {name: asyncio.Lock() for name in self.policies}

    @property
    def names(self) -> list[str]:
        return list(self.policies)

    async def generate(
        self,
        name: str,
        prompt: Messages,
        *,
        max_new_tokens: int,
        temperature: float,
        top_p: float,
        seed: int,
    ) -> Answer:
        policy = self.policies[name]
        async with self._locks[name]:
            answers = await anyio.to_thread.run_sync(
                lambda: generate_answers(
                    policy,
                    [prompt],
                    max_new_tokens=max_new_tokens,
                    temperature=temperature,
                    top_p=top_p,
                    seed=seed,
                )
            )
        return answers[0]

    def describe(self) -> list[dict]:
        return [
            {"name": name, "model": display_name(p.spec), "device": str(p.device)}
            for name, p in self.policies.items()
        ]


def wanted_rm(settings: Settings) -> str | None:
    """The reward model the settings ask for (None for empty or "none")."""
    spec = (settings.api_rm or "").strip()
    return None if spec.lower() in ("", "none") else spec


def load_reward(settings: Settings) -> RewardModel | None:
    """Load the settings' reward model (once, at start-up), if any."""
    spec = wanted_rm(settings)
    if not spec:
        return None
    log.info("loading reward model %s", display_name(spec))
    return load_reward_model(spec, device=settings.api_device, head_seed=settings.api_head_seed)


def load_policies(settings: Settings) -> dict[str, Policy]:
    """Load the settings' policies (once, at start-up)."""
    policies = {}
    for name, spec in settings.api_policies.items():
        log.info("loading policy %s (%s)", name, display_name(spec))
        policies[name] = load_policy(spec, name, device=settings.api_device)
    return policies
