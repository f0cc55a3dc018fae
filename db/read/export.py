"""A run's rows for export: prompt, both texts, scores and lengths, streamed (the texts
of a whole run are never held at once)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.read.common import comparison, scored_run
from db.schema import Pair, PairScore
from preflens.errors import QueryError

BATCH = 1000

SCORE_COLUMNS = (
    "pair_id",
    "split",
    "category",
    "prompt",
    "chosen",
    "rejected",
    "score_chosen",
    "score_rejected",
    "gap",
    "chars_chosen",
    "chars_rejected",
    "response_tokens_chosen",
    "response_tokens_rejected",
)
COMPARISON_COLUMNS = (
    "pair_id",
    "split",
    "category",
    "prompt",
    "policy_a",
    "policy_b",
    "text_a",
    "text_b",
    "score_a",
    "score_b",
    "diff",
    "chars_a",
    "chars_b",
    "tokens_a",
    "tokens_b",
)


def export_columns(session: Session, run_id: int) -> tuple[str, ...]:
    """The columns ``export_rows`` yields for this run."""
    kind = scored_run(session, run_id).kind
    return SCORE_COLUMNS if kind == "score" else COMPARISON_COLUMNS


def export_rows(
    session: Session, run_id: int, a: str | None = None, b: str | None = None
) -> Iterator[dict[str, Any]]:
    """One dict per pair of a score run (chars: the stored response-only characters, else
    the length of the pair's texts), or per prompt of a comparison A vs B of a
    score_generations run (default: the run's first comparison; diff = score_a -
    score_b), by pair id. Bad arguments are refused here, before the first row is read
    (``--a``/``--b`` on a score run, an unknown policy), so a caller can check them
    before it opens its output."""
    run = scored_run(session, run_id)
    if run.kind == "score":
        if a is not None or b is not None:
            raise QueryError(
                f"run {run_id} is a score run (chosen vs rejected); --a/--b choose the "
                "policies of a score_generations run"
            )
        return _score_rows(session, run_id)
    return _comparison_rows(session, *comparison(session, run, a, b))


def _score_rows(session: Session, run_id: int) -> Iterator[dict[str, Any]]:
    s = PairScore
    stmt = (
        select(
            s.pair_id,
            Pair.split,
            Pair.category,
            Pair.prompt_text,
            Pair.chosen,
            Pair.rejected,
            s.score_chosen,
            s.score_rejected,
            s.gap,
            func.coalesce(s.chars_chosen, func.length(Pair.chosen)),
            func.coalesce(s.chars_rejected, func.length(Pair.rejected)),
            s.response_tokens_chosen,
            s.response_tokens_rejected,
        )
        .join(Pair, Pair.id == s.pair_id)
        .where(s.run_id == run_id)
        .order_by(s.pair_id)
    )
    for row in session.execute(stmt.execution_options(yield_per=BATCH)):
        yield dict(zip(SCORE_COLUMNS, row, strict=True))


def _comparison_rows(
    session: Session, a: str, b: str, parts: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    ga, gb, sa, sb = parts["ga"], parts["gb"], parts["sa"], parts["sb"]
    stmt = (
        parts["select"](
            ga.pair_id,
            Pair.split,
            Pair.category,
            Pair.prompt_text,
            ga.text,
            gb.text,
            sa.score,
            sb.score,
            func.length(ga.text),
            func.length(gb.text),
            ga.n_tokens,
            gb.n_tokens,
        )
        .join(Pair, Pair.id == ga.pair_id)
        .order_by(ga.pair_id)
    )
    for row in session.execute(stmt.execution_options(yield_per=BATCH)):
        pid, split, cat, prompt, ta, tb, score_a, score_b, ca, cb, ka, kb = row
        yield {
            "pair_id": pid,
            "split": split,
            "category": cat,
            "prompt": prompt,
            "policy_a": a,
            "policy_b": b,
            "text_a": ta,
            "text_b": tb,
            "score_a": score_a,
            "score_b": score_b,
            "diff": score_a - score_b,
            "chars_a": ca,
            "chars_b": cb,
            "tokens_a": ka,
            "tokens_b": kb,
        }
