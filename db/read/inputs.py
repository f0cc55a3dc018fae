"""What jobs read before they work: a dataset's pairs (a split, the first N), the pairs a
run has not scored yet, counts, and a hash of the data a job uses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from db.lookup import dataset_record
from db.schema import Dataset, Pair, PairScore, RejectedRow
from preflens.errors import PrefLensError, QueryError
from preflens.fingerprint import data_fingerprint

# Dataset.format of a prompt set: prompts without preference pairs (imported answers'
# prompts; training.imports.prompt_sets), whose pairs have empty responses.
PROMPT_SET = "prompts"


def require_pairs(dataset: Dataset) -> None:
    """Refuse a prompt set where preference pairs are needed (it has no responses)."""
    if dataset.format == PROMPT_SET:
        raise PrefLensError(
            f"dataset {dataset.name!r} is a prompt set (prompts without chosen/rejected "
            "responses); generate, import-generations and score-generations use it, but this "
            "command needs preference pairs"
        )


def pairs_query(dataset_id: int, split: str | None, limit: int | None = None) -> Select:
    """Pairs of a dataset split (None: all splits) by id; ``limit``: the first N only."""
    stmt = select(Pair).where(Pair.dataset_id == dataset_id)
    if split is not None:
        stmt = stmt.where(Pair.split == split)
    return stmt.order_by(Pair.id).limit(limit)


def pairs_of(
    session: Session, dataset_id: int, split: str | None, limit: int | None = None
) -> list[Pair]:
    """The pairs of ``pairs_query``, loaded."""
    require_pairs(session.get(Dataset, dataset_id))
    return list(session.scalars(pairs_query(dataset_id, split, limit)))


def count_pairs(
    session: Session, dataset_id: int, split: str | None, limit: int | None = None
) -> int:
    stmt = select(func.count()).select_from(pairs_query(dataset_id, split, limit).subquery())
    return session.scalar(stmt) or 0


def unscored_pairs(
    session: Session, run_id: int, dataset_id: int, split: str | None, limit: int | None = None
) -> Sequence[Pair]:
    """Pairs of the run's dataset split (the first ``limit``) with no score row in the run."""
    chosen = pairs_query(dataset_id, split, limit).subquery()
    scored = select(PairScore.pair_id).where(PairScore.run_id == run_id)
    stmt = (
        select(Pair)
        .join(chosen, chosen.c.id == Pair.id)
        .where(Pair.id.not_in(scored))
        .order_by(Pair.id)
    )
    return session.scalars(stmt).all()


def run_gaps(session: Session, run_id: int) -> list[float]:
    """The score gaps (chosen - rejected) of a score run, by pair id."""
    stmt = select(PairScore.gap).where(PairScore.run_id == run_id).order_by(PairScore.pair_id)
    return list(session.scalars(stmt))


def dataset_hash(
    session: Session, dataset_id: int, split: str | None, limit: int | None = None
) -> str:
    """The data fingerprint of a selection (``pairs_query``): a hash of the set of its
    pairs' content hashes."""
    sub = pairs_query(dataset_id, split, limit).subquery()
    return data_fingerprint(session.scalars(select(sub.c.content_hash)))


@dataclass(frozen=True)
class Selection:
    """The pairs a job works on: the dataset, how many pairs, their data fingerprint."""

    dataset_id: int
    total: int
    data_fingerprint: str


def selection(
    session: Session, dataset: str | int, split: str | None, limit: int | None = None
) -> Selection:
    """The selection ``pairs_query(dataset, split, limit)`` names (dataset by name or id).
    ``QueryError`` when it holds no pair (a split the dataset lacks is named with the
    splits it has), so no job makes an empty run."""
    ds = dataset_record(session, dataset)
    require_pairs(ds)
    total = count_pairs(session, ds.id, split, limit)
    if total == 0:
        raise empty_selection(session, ds, split)
    return Selection(ds.id, total, dataset_hash(session, ds.id, split, limit))


def empty_selection(session: Session, ds: Dataset, split: str | None) -> QueryError:
    """The error for a selection of ``ds`` that holds no pair: a split the dataset lacks
    is named with the splits it has (jobs that also take prompt sets raise it too)."""
    splits = dict(
        session.execute(
            select(Pair.split, func.count()).where(Pair.dataset_id == ds.id).group_by(Pair.split)
        ).all()
    )
    have = ", ".join(f"{k} ({v} pairs)" for k, v in sorted(splits.items())) or "none"
    if split is not None and split not in splits:
        return QueryError(
            f"dataset {ds.name!r} has no split {split!r}; its splits: {have} "
            "(or 'all' for every pair)"
        )
    return QueryError(f"no pairs selected from dataset {ds.name!r} (its splits: {have})")


def dataset_counts(session: Session, dataset_id: int) -> dict[str, Any]:
    """Pairs per split, prompts found in more than one split (``shared_prompts``),
    rejected rows and their reasons for one dataset."""
    splits = dict(
        session.execute(
            select(Pair.split, func.count())
            .where(Pair.dataset_id == dataset_id)
            .group_by(Pair.split)
        ).all()
    )
    reasons = dict(
        session.execute(
            select(RejectedRow.reason, func.count())
            .where(RejectedRow.dataset_id == dataset_id)
            .group_by(RejectedRow.reason)
        ).all()
    )
    # Prompts (by prompt hash) with pairs in more than one split: a split that shares
    # prompts measures memory as well as generalisation.
    shared = (
        select(Pair.prompt_hash)
        .where(Pair.dataset_id == dataset_id, Pair.prompt_hash.is_not(None))
        .group_by(Pair.prompt_hash)
        .having(func.count(func.distinct(Pair.split)) > 1)
        .subquery()
    )
    return {
        "pairs": sum(splits.values()),
        "splits": splits,
        "shared_prompts": session.scalar(select(func.count()).select_from(shared)) or 0,
        "rejected": sum(reasons.values()),
        "reasons": reasons,
    }
