"""The one write path of run bookkeeping: find or open a run by its job key, record
progress, finish or fail it, and the rows that hang off a run (checkpoints, metrics).

Every function takes a ``Session`` first and never commits: the caller owns the
transaction, usually through ``db.session.writing``. Jobs in ``training.jobs`` call
only these to change a run, so what a run's status, progress and error mean is decided
in one place.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from db.lookup import run_record
from db.schema import Checkpoint, Metric, Run
from db.session import writing


def now() -> datetime:
    return datetime.now(UTC)


def job_key(**parts: object) -> str:
    """A stable hash of everything that defines a job (the same command, the same key)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def find_run(session: Session, kind: str, key: str) -> Run | None:
    """The newest run of ``kind`` with this job key, if any."""
    stmt = select(Run).where(Run.kind == kind, Run.key == key).order_by(Run.id.desc())
    return session.scalars(stmt).first()


def open_run(session: Session, kind: str, key: str, **fields: Any) -> tuple[Run, bool]:
    """Find the run for ``key`` or create it; returns (run, already_done).

    A run found unfinished is marked running again (a resume); ``fields`` (dataset_id,
    split, total, config, parent_run_id, ...) fill a new run.
    """
    run = find_run(session, kind, key)
    if run is not None and run.status == "done":
        return run, True
    if run is None:
        run = Run(kind=kind, key=key, **fields)
        session.add(run)
    elif "total" in fields:
        run.total = fields["total"]
    run.status, run.error = "running", None
    run.started_at = run.started_at or now()
    run.updated_at = now()
    session.flush()
    return run, False


def set_progress(session: Session, run_id: int, done: int, total: int) -> None:
    run = session.get(Run, run_id)
    run.progress = done / max(total, 1)
    run.updated_at = now()


def touch(session: Session, run_id: int) -> None:
    """Move the run's update time (rows were written for it)."""
    session.get(Run, run_id).updated_at = now()


def finish_run(
    session: Session, run_id: int, summary: dict[str, Any] | None = None, **fields: Any
) -> Run:
    """Mark the run done (error cleared), storing ``summary`` and ``fields``."""
    run = run_record(session, run_id)
    if summary is not None:
        run.summary = summary
    for name, value in fields.items():
        setattr(run, name, value)
    run.status, run.progress, run.error = "done", 1.0, None
    run.finished_at = run.updated_at = now()
    return run


def fail_run(session: Session, run_id: int, error: str) -> None:
    run = session.get(Run, run_id)
    run.status = "failed"
    run.error = error[:2000]
    run.updated_at = now()


def update_summary(session: Session, run_id: int, **values: Any) -> Run:
    """Merge ``values`` into the run's stored summary."""
    run = run_record(session, run_id)
    run.summary = {**(run.summary or {}), **values}
    run.updated_at = now()
    return run


@contextmanager
def failing_marks_run(make_session: sessionmaker[Session], run_id: int) -> Iterator[None]:
    """Record any exception (interrupt included) on the run, then re-raise it."""
    try:
        yield
    except BaseException as exc:
        with writing(make_session) as session:
            fail_run(session, run_id, f"{type(exc).__name__}: {exc}")
        raise


def finish(
    make_session: sessionmaker[Session],
    run_id: int,
    summarize: Callable[[Session], dict[str, Any]] | None = None,
    **fields: Any,
) -> Run:
    """``finish_run`` in its own transaction, the summary computed inside it."""
    with writing(make_session) as session:
        summary = summarize(session) if summarize is not None else None
        return finish_run(session, run_id, summary, **fields)


def checkpoint_for(
    session: Session,
    path: str,
    *,
    name: str,
    kind: str,
    fingerprint: str = "",
    base: str | None = None,
    config: dict[str, Any] | None = None,
) -> Checkpoint:
    """The checkpoint row of ``path`` at ``fingerprint`` (one row per version of the
    weights), created when new; ``config`` replaces the stored one when given."""
    stmt = select(Checkpoint).where(Checkpoint.path == path, Checkpoint.fingerprint == fingerprint)
    ckpt = session.scalars(stmt).first()
    if ckpt is None:
        ckpt = Checkpoint(
            path=path,
            name=name,
            kind=kind,
            base=base,
            config=config or {},
            fingerprint=fingerprint,
        )
        session.add(ckpt)
        session.flush()
    elif config is not None:
        ckpt.config = config
    return ckpt


def write_metrics(session: Session, run_id: int, step: int, values: dict[str, float]) -> None:
    """Insert or replace metric values for one step (a resumed run logs a step again)."""
    for name, value in values.items():
        existing = session.scalars(
            select(Metric).where(Metric.run_id == run_id, Metric.name == name, Metric.step == step)
        ).first()
        if existing is None:
            session.add(Metric(run_id=run_id, step=step, name=name, value=value))
        else:
            existing.value = value
    touch(session, run_id)


def clear_metrics(session: Session, run_id: int) -> None:
    session.execute(delete(Metric).where(Metric.run_id == run_id))
