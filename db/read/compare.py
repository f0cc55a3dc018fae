"""The one rule for comparing two runs: a comparison is offered only between score runs
on the same pairs (the same dataset and split), and a run's default partner is the other
half of a training run's before/after pair (``train-rm`` scores the eval split with the
untrained head, then with the trained one). Every surface (``preflens diagnose
--against``, the paired API route, the dashboard pickers) asks this module."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.lookup import run_record
from db.schema import Run
from preflens.errors import IncomparableError, QueryError


def _pairs_of(run: Run) -> str:
    name = run.dataset.name if run.dataset else "no dataset"
    return f"{name!r} split {run.split or 'all'}"


def _score(session: Session, run_id: int) -> Run:
    run = run_record(session, run_id)
    if run.kind != "score":
        raise QueryError(f"run {run_id} is not a score run (pairs scored chosen vs rejected)")
    return run


def same_pairs(a: Run, b: Run) -> bool:
    """True when both score runs scored pairs of the same dataset and split."""
    return a.dataset_id is not None and (a.dataset_id, a.split) == (b.dataset_id, b.split)


def require_same_pairs(a: Run, b: Run) -> None:
    """Raise ``IncomparableError`` naming both runs' datasets unless they hold the same
    pairs (for runs of any kind that hold per-pair values: score, score_dpo)."""
    if not same_pairs(a, b):
        raise IncomparableError(
            f"runs {a.id} and {b.id} scored different pairs (run {a.id}: {_pairs_of(a)}; "
            f"run {b.id}: {_pairs_of(b)}); compare runs on the same dataset and split"
        )


def check_comparable(session: Session, run_a: int, run_b: int) -> None:
    """Raise ``IncomparableError`` (naming both datasets) unless the two runs are
    different score runs on the same pairs."""
    if run_a == run_b:
        raise QueryError("a paired comparison needs two different runs")
    require_same_pairs(_score(session, run_a), _score(session, run_b))


def comparable_runs(session: Session, run_id: int) -> list[int]:
    """Ids of the other score runs on the same pairs as score run ``run_id``, oldest
    first."""
    run = _score(session, run_id)
    if run.dataset_id is None:
        return []
    stmt = select(Run.id).where(
        Run.kind == "score",
        Run.id != run.id,
        Run.dataset_id == run.dataset_id,
        Run.split.is_(None) if run.split is None else Run.split == run.split,
    )
    return list(session.scalars(stmt.order_by(Run.id)))


def _roles(train: Run) -> tuple[int | None, int | None]:
    scores = (train.summary or {}).get("scores") or {}
    return (scores.get("before") or {}).get("run"), (scores.get("after") or {}).get("run")


def partner(session: Session, run_id: int) -> dict[str, Any] | None:
    """The before/after partner of score run ``run_id``: ``{"run", "role",
    "partner_role", "train_run"}`` (``role`` is this run's: "before" or "after"), or None
    when the run is not half of a training run's pair. The after run's parent is the
    training run; the before run is found in a training run's summary."""
    run = _score(session, run_id)
    trains = []
    if run.parent_run_id is not None:
        trains.append(session.get(Run, run.parent_run_id))
    trains += session.scalars(
        select(Run).where(Run.kind == "train_rm", Run.dataset_id == run.dataset_id).order_by(Run.id)
    ).all()
    for train in trains:
        if train is None:
            continue
        before, after = _roles(train)
        if before == run_id and after is not None:
            return {"run": after, "role": "before", "partner_role": "after", "train_run": train.id}
        if after == run_id and before is not None:
            return {"run": before, "role": "after", "partner_role": "before", "train_run": train.id}
    return None


def comparison_options(session: Session, run_id: int) -> dict[str, Any]:
    """What a picker offers for score run ``run_id``: ``comparable`` (run ids on the same
    pairs, partner first) and ``partner`` (as in :func:`partner`, or None)."""
    ids = comparable_runs(session, run_id)
    p = partner(session, run_id)
    if p is not None and p["run"] in ids:
        ids.remove(p["run"])
        ids.insert(0, p["run"])
    elif p is not None:
        p = None  # the partner scored other pairs (e.g. a different limit): not offered
    return {"run": run_id, "comparable": ids, "partner": p}
