"""One case in full (``get_case``: the pair, its scores in a run or every policy's scored
answer) and whether a run's reward model had an untrained head. Case search lives in
``db.read.cases``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.flags import get_flag
from db.read.common import comparison, run_policies, scored_run
from db.schema import Generation, GenerationScore, Pair, PairScore
from preflens.errors import NotFoundError
from preflens.stats import sigmoid


def head_initialized(run: Any) -> bool | None:
    """Whether the run's reward model had no trained head (its checkpoint row is of kind
    ``base``: the head was initialised from a seed); None when unknown."""
    return None if run.checkpoint is None else run.checkpoint.kind == "base"


def get_case(
    session: Session, run_id: int, pair_id: int, a: str | None = None, b: str | None = None
) -> dict[str, Any]:
    """One case in full: the pair (prompt messages, both responses) and its scores in the
    run; for a score_generations run also every policy's answer with its score, and the
    A-vs-B gap (``a``/``b`` default to the run's first comparison). ``flag``: the pair's
    flag (label, note, set_by, updated_at; ``db.flags``) or None."""
    run = scored_run(session, run_id)
    pair = session.get(Pair, pair_id)
    if pair is None:
        raise NotFoundError(f"no pair with id {pair_id}")
    out: dict[str, Any] = {
        "run_id": run_id,
        "kind": run.kind,
        # Conversation tokens (as scored) the run kept per side; a longer one lost its start.
        "max_length": (run.config or {}).get("max_length"),
        "pair": {
            "id": pair.id,
            "dataset": pair.dataset.name,
            "split": pair.split,
            "category": pair.category,
            "source_row": pair.source_row,
            "prompt": pair.prompt,
            "prompt_text": pair.prompt_text,
            "chosen": pair.chosen,
            "rejected": pair.rejected,
        },
        "flag": get_flag(session, pair.id),
    }
    if run.kind == "score":
        ps = session.scalars(
            select(PairScore).where(PairScore.run_id == run_id, PairScore.pair_id == pair_id)
        ).first()
        if ps is None:
            raise NotFoundError(f"pair {pair_id} has no score in run {run_id}")
        out["scores"] = {
            "score_chosen": ps.score_chosen,
            "score_rejected": ps.score_rejected,
            "gap": ps.gap,
            # Bradley-Terry: P(chosen preferred) = sigmoid(gap); meaningless when the RM's
            # head is untrained (head_initialized), whose scores are noise.
            "p_chosen_preferred": sigmoid(ps.gap),
            "head_initialized": head_initialized(run),
            "tokens_chosen": ps.tokens_chosen,
            "tokens_rejected": ps.tokens_rejected,
            "response_tokens_chosen": ps.response_tokens_chosen,
            "response_tokens_rejected": ps.response_tokens_rejected,
            "chars_chosen": ps.chars_chosen,
            "chars_rejected": ps.chars_rejected,
            "truncated_chosen": ps.truncated_chosen,
            "truncated_rejected": ps.truncated_rejected,
        }
        return out
    a, b, _ = comparison(session, run, a, b)
    rows = session.execute(
        select(Generation, GenerationScore)
        .join(GenerationScore, GenerationScore.generation_id == Generation.id)
        .where(GenerationScore.run_id == run_id, Generation.pair_id == pair_id)
    ).all()
    answers = {
        g.policy: {
            "policy": g.policy,
            "text": g.text,
            "n_tokens": g.n_tokens,
            "finish_reason": g.finish_reason,
            "seconds": g.seconds,
            "score": gs.score,
            "score_tokens": gs.n_tokens,
            "truncated": gs.truncated,
        }
        for g, gs in rows
    }
    if a not in answers or b not in answers:
        raise NotFoundError(f"pair {pair_id} has no scored answers of {a} and {b} in run {run_id}")
    order = run_policies(session, run)
    out["a"], out["b"] = a, b
    out["gap"] = answers[a]["score"] - answers[b]["score"]
    out["generations"] = [answers[p] for p in order if p in answers]
    return out
