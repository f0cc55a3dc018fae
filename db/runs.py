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
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from db.lookup import run_record
from db.ownership import now, owner_alive, owner_id
from db.read.columns import store_columns, store_dpo_columns
from db.read.values import materialise_values
from db.schema import Checkpoint, Metric, Run
from db.session import writing
from preflens.errors import PrefLensError

log = logging.getLogger(__name__)


class RunBusyError(PrefLensError):
    """Another live process owns the run (and waiting for it ran out of time)."""

    def __init__(self, message: str, run_id: int | None = None, owner: str | None = None):
        super().__init__(message)
        self.run_id, self.owner = run_id, owner


def job_key(**parts: object) -> str:
    """A stable hash of everything that defines a job (the same command, the same key)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def find_run(session: Session, kind: str, key: str) -> Run | None:
    """The newest run of ``kind`` with this job key, if any."""
    stmt = select(Run).where(Run.kind == kind, Run.key == key).order_by(Run.id.desc())
    return session.scalars(stmt).first()


def _lock_key(session: Session, kind: str, key: str) -> None:
    """Serialise claims of one job key across processes for this transaction: SQLite
    takes its write lock now (a write statement, even one that changes nothing);
    PostgreSQL takes an advisory lock on the key."""
    if session.get_bind().dialect.name == "postgresql":
        lock = int(job_key(kind=kind, key=key)[:15], 16)
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock})
    else:
        session.execute(update(Run).where(Run.id == -1).values(status="running"))


def open_run(session: Session, kind: str, key: str, **fields: Any) -> tuple[Run, bool]:
    """Find the run for ``key`` or create it, and claim it for this process.

    Returns (run, already_done): a finished run is returned for reuse; otherwise this
    process now owns the run (a new one, or an unfinished one whose owner is gone,
    resumed). Raises ``RunBusyError`` when another live process owns it
    (``claim_run`` waits instead). ``fields`` (dataset_id, split, total, config,
    parent_run_id, fingerprints) fill a new run. The caller commits.
    """
    _lock_key(session, kind, key)
    run = find_run(session, kind, key)
    if run is not None and run.status == "done":
        return run, True
    if run is not None and run.status == "running" and run.owner != owner_id():
        if owner_alive(run.owner, run.heartbeat_at):
            raise RunBusyError(
                f"run {run.id} is being written by {run.owner}", run_id=run.id, owner=run.owner
            )
    if run is None:
        run = Run(kind=kind, key=key, **fields)
        session.add(run)
    elif "total" in fields:
        run.total = fields["total"]
    run.status, run.error = "running", None
    run.owner, run.heartbeat_at = owner_id(), now()
    run.started_at = run.started_at or now()
    run.updated_at = now()
    session.flush()
    return run, False


def claim_run(
    make_session: sessionmaker[Session],
    kind: str,
    key: str,
    *,
    wait_s: float | None = None,
    poll_s: float = 1.0,
    **fields: Any,
) -> tuple[Run, bool]:
    """``open_run`` in its own transaction; while another live process owns the run,
    wait for it (it finishes: reuse; it dies: take over). Returns (run, already_done).
    ``wait_s``: give up after this long with ``RunBusyError`` (None: wait as long as it
    lives)."""
    start = time.monotonic()
    told = False
    while True:
        try:
            with writing(make_session) as session:
                return open_run(session, kind, key, **fields)
        except RunBusyError as busy:
            if not told:
                log.warning("%s; waiting for it to finish", busy)
                told = True
            if wait_s is not None and time.monotonic() - start > wait_s:
                raise RunBusyError(
                    f"{busy}; wait for it or stop that process", busy.run_id, busy.owner
                ) from None
        time.sleep(poll_s)


def set_progress(session: Session, run_id: int, done: int, total: int) -> None:
    """Progress (done of total) and a heartbeat: the owner is alive."""
    run = session.get(Run, run_id)
    run.progress = done / max(total, 1)
    run.updated_at = run.heartbeat_at = now()


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
    run.owner = None
    if run.kind in ("score", "score_generations"):
        # Sorted value series for the distribution views: one scan and sort now instead
        # of one per view (db.read.values).
        session.flush()
        materialise_values(session, run_id)
        store_columns(session, run_id)  # aligned columns for diagnostics (db.read.columns)
    elif run.kind == "score_dpo":
        session.flush()
        store_dpo_columns(session, run_id)  # its gaps, for suspects over many runs
    return run


def fail_run(session: Session, run_id: int, error: str) -> None:
    run = session.get(Run, run_id)
    run.status = "failed"
    run.error = error[:2000]
    run.updated_at = now()
    run.owner = None


def update_summary(session: Session, run_id: int, **values: Any) -> Run:
    """Merge ``values`` into the run's stored summary."""
    run = run_record(session, run_id)
    run.summary = {**(run.summary or {}), **values}
    run.updated_at = now()
    return run


def link_series(session: Session, run_id: int, parent_run_id: int | None, step: int) -> Run:
    """Make score run ``run_id`` the point at ``step`` of the checkpoint series of
    ``parent_run_id`` (a training run or a ``series`` run): its parent, and
    ``series_step`` / ``series_of`` in its config (no schema column is needed)."""
    run = run_record(session, run_id)
    if parent_run_id is not None:
        run.parent_run_id = parent_run_id
    # A new dict: SQLAlchemy sees a replaced JSON value, not an edited one.
    run.config = {**(run.config or {}), "series_step": int(step), "series_of": parent_run_id}
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


def insert_new(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows``, skipping any that a unique constraint says exist already (two
    writers, or a rerun after a crash, never fail on or double a row)."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:  # pragma: no cover - other databases: plain insert
        session.execute(insert(table), rows)
        return
    session.execute(dialect_insert(table).on_conflict_do_nothing(), rows)


def clear_metrics(session: Session, run_id: int) -> None:
    session.execute(delete(Metric).where(Metric.run_id == run_id))
