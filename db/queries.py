"""Query helpers. Each takes a ``Session`` first and never commits: the caller owns the
transaction. Nothing here is SQLite-only (PostgreSQL works through the same URL).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, delete, func, select
from sqlalchemy.orm import Session

from db.models import Checkpoint, Dataset, Metric, Pair, PairScore, RejectedRow, Run
from preflens.errors import NotFoundError


def get_dataset(session: Session, name_or_id: str | int) -> Dataset:
    """A dataset by name (or numeric id); ``NotFoundError`` lists what exists."""
    stmt = select(Dataset).where(Dataset.name == str(name_or_id))
    dataset = session.scalars(stmt).first()
    if dataset is None and str(name_or_id).isdigit():
        dataset = session.get(Dataset, int(name_or_id))
    if dataset is None:
        names = session.scalars(select(Dataset.name).order_by(Dataset.name)).all()
        known = ", ".join(names) or "none yet; run `preflens ingest` first"
        raise NotFoundError(f"no dataset named {name_or_id!r} (known: {known})")
    return dataset


def dataset_counts(session: Session, dataset_id: int) -> dict[str, Any]:
    """Pairs per split, rejected rows and their reasons for one dataset."""
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
    return {
        "pairs": sum(splits.values()),
        "splits": splits,
        "rejected": sum(reasons.values()),
        "reasons": reasons,
    }


def get_or_create_checkpoint(
    session: Session,
    path: str,
    *,
    name: str,
    kind: str,
    base: str | None = None,
    config: dict[str, Any] | None = None,
) -> Checkpoint:
    ckpt = session.scalars(select(Checkpoint).where(Checkpoint.path == path)).first()
    if ckpt is None:
        ckpt = Checkpoint(path=path, name=name, kind=kind, base=base, config=config or {})
        session.add(ckpt)
        session.flush()
    return ckpt


def find_run(session: Session, kind: str, key: str) -> Run | None:
    """The newest run of ``kind`` with this job key, if any."""
    stmt = select(Run).where(Run.kind == kind, Run.key == key).order_by(Run.id.desc())
    return session.scalars(stmt).first()


def pairs_query(dataset_id: int, split: str | None, limit: int | None = None):
    """Pairs of a dataset split (None: all splits) by id; ``limit``: the first N only."""
    stmt = select(Pair).where(Pair.dataset_id == dataset_id)
    if split is not None:
        stmt = stmt.where(Pair.split == split)
    return stmt.order_by(Pair.id).limit(limit)


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


def clear_metrics(session: Session, run_id: int) -> None:
    session.execute(delete(Metric).where(Metric.run_id == run_id))


def score_summary(session: Session, run_id: int) -> dict[str, Any]:
    """Accuracy (share of pairs with chosen > rejected), reward mean/std over both sides,
    number of pairs and of truncated responses, computed in SQL."""
    s = PairScore
    row = session.execute(
        select(
            func.count(),
            func.sum(case((s.gap > 0, 1), else_=0)),
            func.sum(s.score_chosen + s.score_rejected),
            func.sum(s.score_chosen * s.score_chosen + s.score_rejected * s.score_rejected),
            func.sum(
                case((s.truncated_chosen, 1), else_=0) + case((s.truncated_rejected, 1), else_=0)
            ),
            func.avg(s.gap),
            func.avg(s.score_chosen),
            func.avg(s.score_rejected),
        ).where(s.run_id == run_id)
    ).one()
    n, correct, total, total_sq, truncated, gap_mean, chosen_mean, rejected_mean = row
    if not n:
        return {"pairs": 0}
    mean = total / (2 * n)
    var = max(total_sq / (2 * n) - mean * mean, 0.0)
    return {
        "pairs": int(n),
        "accuracy": (correct or 0) / n,
        "reward_mean": mean,
        "reward_std": math.sqrt(var),
        "chosen_mean": chosen_mean,
        "rejected_mean": rejected_mean,
        "gap_mean": gap_mean,
        "truncated_responses": int(truncated or 0),
    }


def list_runs(session: Session, kind: str | None = None) -> Sequence[Run]:
    stmt = select(Run).order_by(Run.id)
    if kind:
        stmt = stmt.where(Run.kind == kind)
    return session.scalars(stmt).all()


def get_run(session: Session, run_id: int) -> Run:
    run = session.get(Run, run_id)
    if run is None:
        raise NotFoundError(f"no run with id {run_id}; `preflens runs` lists them")
    return run
