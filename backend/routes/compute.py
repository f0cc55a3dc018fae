"""Compute routes: score, compare, generate. They are ``async``: tokenizing, forward
passes and generation run in worker threads, so the event loop never blocks; score
requests share forward passes through the micro-batcher."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Body

from backend.deps import GenerationDep, OptionalRewardDep, RewardDep, SessionDep, SettingsDep
from backend.errors import ApiError, LimitError
from backend.examples import example
from backend.schemas import (
    CompareRequest,
    CompareResult,
    GeneratedAnswer,
    GenerateRequest,
    GenerateResult,
    Message,
    ScoreBatch,
    ScoreRequest,
    ScoreResult,
    ScoreResults,
    TokenValue,
    prompt_messages,
    texts_of,
)
from db import read
from preflens.config import Settings
from preflens.stats import sigmoid

router = APIRouter(prefix="/v1", tags=["compute"])
DEFAULT_NEW_TOKENS = 128


SHOWN_NAMES = 5  # unknown policy names echoed in an error
SHOWN_NAME_CHARS = 40


def check_texts(settings: Settings, texts: Iterable[tuple[str, str]]) -> None:
    """422 when any (where, text) is longer than ``max_text_chars`` (the error names
    the setting) or is not valid Unicode (a lone surrogate such as "\\ud800", which
    JSON can carry but no tokenizer or UTF-8 encoder takes)."""
    limit = settings.max_text_chars
    for where, value in texts:
        if len(value) > limit:
            raise LimitError(
                f"{where} has {len(value)} characters; the limit is max_text_chars={limit} "
                "(PREFLENS_MAX_TEXT_CHARS)"
            )
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ApiError(
                422,
                f"{where} is not valid Unicode: a lone surrogate at character {exc.start}",
                "invalid_text",
            ) from None


def check_prompt(settings: Settings, where: str, prompt: str | list[Message]) -> None:
    """Check each text of a prompt, then its size: all messages together at most
    ``max_prompt_chars`` characters."""
    texts = texts_of(prompt)
    if isinstance(prompt, str):
        check_texts(settings, [(where, prompt)])
    else:
        check_texts(settings, ((f"{where}[{i}].content", t) for i, t in enumerate(texts)))
    total, limit = sum(map(len, texts)), settings.max_prompt_chars
    if total > limit:
        raise LimitError(
            f"{where} has {total} characters in all; the limit is max_prompt_chars={limit} "
            "(PREFLENS_MAX_PROMPT_CHARS)"
        )


def shown(names: list[str]) -> str:
    """A short, bounded listing of names for an error message."""
    cut = [n if len(n) <= SHOWN_NAME_CHARS else n[:SHOWN_NAME_CHARS] + "..." for n in names]
    more = f" and {len(names) - SHOWN_NAMES} more" if len(names) > SHOWN_NAMES else ""
    return "[" + ", ".join(repr(n) for n in cut[:SHOWN_NAMES]) + "]" + more


@router.post(
    "/score",
    summary="Score one item or a batch with the reward model",
    response_model=ScoreResult | ScoreResults,
    response_model_exclude_none=True,
    responses=example("score"),
)
async def score(
    body: Annotated[ScoreRequest, Body()], rm: RewardDep, settings: SettingsDep
) -> ScoreResult | ScoreResults:
    """Send `{"prompt", "response"}` for one result, or `{"items": [...]}` for
    `{"results": [...]}` in the same order. A prompt is text (one user message) or chat
    messages; the conversation is templated and cut exactly as `preflens score` does
    (keeping its last `score_max_length` tokens), so both give the same score.
    Concurrent requests share forward passes (see `batch_wait_ms`, `batch_max_size`).
    With `"per_token": true` (on an item or the batch) a result also carries `tokens`:
    the response's tokens as text with the reward head's value at each (one extra
    forward pass; the last value is the score). Per-token items may hold at most
    `max_per_token_tokens` conversation tokens in all (422 beyond); their passes run on
    the batcher's thread, one request at a time between scoring passes."""
    items = body.items if isinstance(body, ScoreBatch) else [body]
    if len(items) > settings.max_batch_items:
        raise LimitError(
            f"{len(items)} items; the limit is max_batch_items={settings.max_batch_items} "
            "(PREFLENS_MAX_BATCH_ITEMS)"
        )
    for i, item in enumerate(items):
        check_prompt(settings, f"items[{i}].prompt", item.prompt)
        check_texts(settings, [(f"items[{i}].response", item.response)])
    wanted = [k for k, i in enumerate(items) if i.per_token or body.per_token]
    encoded = []
    if wanted:  # the budget is checked before anything is scored
        encoded = await anyio.to_thread.run_sync(
            rm.encode_per_token,
            [(prompt_messages(items[k].prompt), items[k].response) for k in wanted],
        )
        check_per_token_budget(settings, [len(e.ids) for e in encoded])
    # Responses lose surrounding whitespace, as ingest stores them: the same pair scores
    # the same here and in `preflens score`.
    scored = await rm.score([(prompt_messages(i.prompt), i.response.strip()) for i in items])
    untrained = rm.head_initialized
    results = [
        ScoreResult(
            score=s.score,
            n_tokens=s.n_tokens,
            truncated=s.truncated,
            model=rm.name,
            head_initialized=untrained,
        )
        for s in scored
    ]
    if wanted:
        per = await rm.per_token(encoded)
        for k, o in zip(wanted, per, strict=True):
            results[k].tokens = [
                TokenValue(text=t.text, value=t.value, response=t.response) for t in o.tokens
            ]
    return ScoreResults(results=results) if isinstance(body, ScoreBatch) else results[0]


def check_per_token_budget(settings: Settings, tokens: list[int]) -> None:
    """422 when the per-token items of one request hold more conversation tokens (as
    scored) than ``max_per_token_tokens``: values are kept for every token, so the cost
    of a request grows with its tokens, not with its items."""
    total, limit = sum(tokens), settings.max_per_token_tokens
    if total > limit:
        raise LimitError(
            f"per-token values asked for {len(tokens)} items of {total} conversation tokens "
            f"in all (as scored); the limit is max_per_token_tokens={limit} "
            "(PREFLENS_MAX_PER_TOKEN_TOKENS)"
        )


@router.post(
    "/compare",
    summary="Compare two responses to one prompt",
    response_model=CompareResult,
    responses=example("compare"),
)
async def compare(
    body: CompareRequest, rm: RewardDep, settings: SettingsDep, session: SessionDep
) -> CompareResult:
    """Both scores, the gap, and P(A preferred) = sigmoid(score_A - score_B) (the
    Bradley-Terry model reward models are trained with). With `run` (a score or
    score_generations run), each score's percentile among that run's scores, ties
    counting half."""
    check_prompt(settings, "prompt", body.prompt)
    check_texts(settings, [("response_a", body.response_a), ("response_b", body.response_b)])
    scorer: dict = {}
    if body.run is not None:  # fail before computing anything when the run is unknown
        scorer = await anyio.to_thread.run_sync(read.run_scorer, session, body.run)
    messages = prompt_messages(body.prompt)
    a, b = await rm.score(
        [(messages, body.response_a.strip()), (messages, body.response_b.strip())]
    )
    percentiles: tuple[float | None, float | None] = (None, None)
    if body.run is not None:
        percentiles = await anyio.to_thread.run_sync(
            lambda: tuple(read.score_percentile(session, body.run, s.score) for s in (a, b))
        )
    return CompareResult(
        model=rm.name,
        score_a=a.score,
        score_b=b.score,
        gap=a.score - b.score,
        p_a_preferred=sigmoid(a.score - b.score),
        n_tokens_a=a.n_tokens,
        n_tokens_b=b.n_tokens,
        truncated_a=a.truncated,
        truncated_b=b.truncated,
        head_initialized=rm.head_initialized,
        max_length=rm.max_length,
        run=body.run,
        percentile_a=percentiles[0],
        percentile_b=percentiles[1],
        run_model=scorer.get("model"),
        run_max_length=scorer.get("max_length"),
        run_same_model=rm.matches_run(scorer) if body.run is not None else None,
    )


@router.post(
    "/generate",
    summary="Answer a prompt with loaded policies and score the answers",
    response_model=GenerateResult,
    responses=example("generate"),
)
async def generate(
    body: GenerateRequest, gen: GenerationDep, settings: SettingsDep, rm: OptionalRewardDep
) -> GenerateResult:
    """Each named policy answers with the chat template (temperature 0: greedy); the
    finish reason is `stop` when it ended its turn, `length` when cut at
    `max_new_tokens`. The reward model, when loaded, scores each answer. Each policy
    generates one request at a time; policies of one request run one after another."""
    limit = settings.max_new_tokens_limit
    max_new_tokens = body.max_new_tokens or min(DEFAULT_NEW_TOKENS, limit)
    if max_new_tokens > limit:
        raise LimitError(
            f"max_new_tokens is {max_new_tokens}; the limit is "
            f"max_new_tokens_limit={settings.max_new_tokens_limit} (PREFLENS_MAX_NEW_TOKENS_LIMIT)"
        )
    check_prompt(settings, "prompt", body.prompt)
    names = list(dict.fromkeys(body.policies or gen.names))
    if len(names) > settings.max_policies:
        raise LimitError(
            f"{len(names)} policies; the limit is max_policies={settings.max_policies} "
            "(PREFLENS_MAX_POLICIES)"
        )
    unknown = [n for n in names if n not in gen.policies]
    if unknown or not names:
        raise ApiError(
            422,
            f"unknown policies {shown(unknown)}; loaded: {shown(gen.names)}",
            "unknown_policy",
        )
    messages = prompt_messages(body.prompt)
    answers = []
    for name in names:
        answers.append(
            await gen.generate(
                name,
                messages,
                max_new_tokens=max_new_tokens,
                temperature=body.temperature,
                top_p=body.top_p,
                seed=body.seed,
            )
        )
    scored = (
        await rm.score([(messages, a.text) for a in answers])
        if rm is not None
        else [None] * len(answers)
    )
    return GenerateResult(
        model=rm.name if rm is not None else None,
        head_initialized=rm.head_initialized if rm is not None else None,
        results=[
            GeneratedAnswer(
                policy=name,
                text=a.text,
                n_tokens=a.n_tokens,
                finish_reason=a.finish_reason,
                seconds=a.seconds,
                score=s.score if s else None,
                score_tokens=s.n_tokens if s else None,
                score_truncated=s.truncated if s else None,
            )
            for name, a, s in zip(names, answers, scored, strict=True)
        ],
    )
