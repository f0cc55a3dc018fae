"""Run bookkeeping shared by every job: find-or-create by key, progress, failure, finish.

A job is identified by a key over everything that defines it, so rerunning the same
command finds the same run: a finished run is reused, an interrupted one resumed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from db import queries
from db.models import Run


def job_key(**parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class JobResult:
    run: Run
    reused: bool  # the run was already complete; nothing was done
    done_now: int  # items (pairs, answers) processed by this call


def open_run(
    make_session: sessionmaker[Session], kind: str, key: str, **fields: Any
) -> tuple[Run, bool]:
    """Find the run for ``key`` or create it; returns (run, already_done).

    A run found unfinished is marked running again (a resume); ``fields`` (dataset_id,
    split, total, config, parent_run_id, ...) fill a new run.
    """
    with make_session() as session:
        run = queries.find_run(session, kind, key)
        if run is not None and run.status == "done":
            return run, True
        if run is None:
            run = Run(kind=kind, key=key, **fields)
            session.add(run)
        elif "total" in fields:
            run.total = fields["total"]
        run.status, run.error = "running", None
        run.started_at = run.started_at or datetime.now(UTC)
        session.commit()
        return run, False


@contextmanager
def failing_marks_run(make_session: sessionmaker[Session], run_id: int) -> Iterator[None]:
    """Record any exception (interrupt included) on the run, then re-raise it."""
    try:
        yield
    except BaseException as exc:
        with make_session() as session:
            run = session.get(Run, run_id)
            run.status = "failed"
            run.error = f"{type(exc).__name__}: {exc}"[:2000]
            session.commit()
        raise


def finish_run(
    make_session: sessionmaker[Session],
    run_id: int,
    summarize: Callable[[Session], dict[str, Any]] | None = None,
    **fields: Any,
) -> Run:
    """Mark the run done, storing ``summarize(session)`` as its summary."""
    with make_session() as session:
        run = session.get(Run, run_id)
        if summarize is not None:
            run.summary = summarize(session)
        for name, value in fields.items():
            setattr(run, name, value)
        run.status, run.progress = "done", 1.0
        run.finished_at = datetime.now(UTC)
        session.commit()
        return run


def set_progress(session: Session, run_id: int, done: int, total: int) -> None:
    session.get(Run, run_id).progress = done / max(total, 1)
