"""How an import writes its run: claimed like any job (the same file again finds the
finished run), then every row and the finish in one transaction, so a failed import
leaves a failed run and no half of its rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session, sessionmaker

from db import runs
from db.session import writing
from training.imports.common import ImportReport

CHUNK = 1000  # rows per INSERT statement


def write_import_run(
    make_session: sessionmaker[Session],
    report: ImportReport,
    kind: str,
    key: str,
    table: Table,
    rows: list[dict[str, Any]],
    summarize: Callable[[Session, int], dict[str, Any]],
    **fields: Any,
) -> None:
    """Create (or find) the run of ``kind``/``key`` with ``fields``, insert ``rows`` (each
    gets the run id) and finish the run with ``summarize(session, run_id)`` merged with
    the import's counts; fills the report's run id, kind and summary."""
    run, done = runs.claim_run(make_session, kind, key, total=len(rows), **fields)
    report.run_id, report.run_kind, report.reused = run.id, kind, done
    if done:
        report.summary = dict(run.summary or {})
        return
    counts = {
        "rows_read": report.rows,
        "rows_stored": len(rows),
        "rows_refused": len(report.refused),
    }
    with runs.failing_marks_run(make_session, run.id):
        with writing(make_session) as session:
            for row in rows:
                row["run_id"] = run.id
            for start in range(0, len(rows), CHUNK):
                runs.insert_new(session, table, rows[start : start + CHUNK])
            summary = {**summarize(session, run.id), "imported": counts}
            finished = runs.finish_run(session, run.id, summary)
            report.summary = dict(finished.summary or {})
