"""Ad-hoc scoring with a reward model, the way ``preflens score`` scores (public
through ``preflens.api``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from preflens.config import get_settings

if TYPE_CHECKING:
    import pandas as pd


class RewardScorer:
    """A loaded reward model for ad-hoc scoring (made by ``load_reward_model``).

    Conversations are templated and cut as ``preflens score`` and ``POST /v1/score`` do
    (chat template, keep the last ``max_length`` tokens; a response loses surrounding
    whitespace as ingest stores it), so a pair scores the same number here, in a score
    run and over HTTP (to float rounding of batched passes)."""

    def __init__(self, rm: Any, max_length: int, batch_size: int) -> None:
        self._rm = rm
        self.max_length = max_length
        self.batch_size = batch_size

    @property
    def path(self) -> str:
        """The checkpoint folder the weights came from."""
        return str(self._rm.path)

    @property
    def head_initialized(self) -> bool:
        """True when the checkpoint had no reward head and one was drawn from
        ``head_seed`` (an untrained reward model: accuracy near 0.5)."""
        return bool(self._rm.head_initialized)

    def _scores(self, prompts: list[Any], responses: list[str]) -> list[float]:
        from training.scoring import score_texts

        messages = [_messages(p) for p in prompts]
        texts = [r.strip() for r in responses]
        scored = score_texts(self._rm, messages, texts, self.max_length, self.batch_size)
        return [s for s, _ in scored]

    def score(self, prompt: str | list[dict[str, str]], response: str) -> float:
        """The reward of one response to a prompt (the user's text, or chat messages)."""
        return self._scores([prompt], [response])[0]

    def score_pairs(self, df: pd.DataFrame) -> pd.DataFrame:
        """Score a DataFrame with columns ``prompt`` (text or chat messages), ``chosen``
        and ``rejected``; returns a copy with ``score_chosen``, ``score_rejected`` and
        ``gap`` (chosen - rejected: a pair is ranked right when gap > 0)."""
        prompts = list(df["prompt"])
        scores = self._scores(prompts + prompts, list(df["chosen"]) + list(df["rejected"]))
        n = len(df)
        out = df.copy()
        out["score_chosen"] = scores[:n]
        out["score_rejected"] = scores[n:]
        out["gap"] = out["score_chosen"] - out["score_rejected"]
        return out


def _messages(prompt: str | list[dict[str, str]]) -> list[dict[str, str]]:
    """A prompt as chat messages (a text becomes one user message, as ingest stores it)."""
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    return [dict(m) for m in prompt]


def load_reward_model(
    path: str,
    *,
    head_seed: int = 0,
    max_length: int | None = None,
    batch_size: int | None = None,
    device: str | None = None,
) -> RewardScorer:
    """Load a reward model from a checkpoint folder, ``.gguf`` file, hub id or alias, in
    any layout ``preflens score`` reads (see docs/guides/bring-your-own.md).
    ``max_length`` (conversation tokens kept, as scored) defaults to
    ``PREFLENS_SCORE_MAX_LENGTH``, as for ``preflens score``; ``batch_size``
    (conversations per forward pass; it changes speed, not scores) to
    ``PREFLENS_SCORE_BATCH_SIZE``. A checkpoint without a reward head gets one drawn from
    ``head_seed``, as ``preflens score --head-seed`` draws it."""
    from training.loading import load_reward_model as load

    settings = get_settings()
    rm = load(path, device=device, head_seed=head_seed)
    return RewardScorer(
        rm,
        max_length if max_length is not None else settings.score_max_length,
        batch_size if batch_size is not None else settings.score_batch_size,
    )
