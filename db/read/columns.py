"""A finished score run's numeric columns, stored once, aligned by pair id.

Diagnostics need every pair's scores and lengths side by side (AUC, length strata,
calibration, paired comparisons). Reading a million rows back from SQLite costs seconds;
so when a score run finishes its columns are stored in ``run_values`` under the series
``column:<name>`` as packed little-endian float64 in pair-id order (NULL as NaN), and a
later read is one blob per column. A run still being written, or one finished before
columns were stored, is read from its rows (``numeric_rows``), which gives the same
arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from db.read.common import pair_score_where
from db.schema import DpoScore, Pair, PairScore, Run, RunValues

COLUMNS = (
    "pair_id",
    "score_chosen",
    "score_rejected",
    "gap",
    "response_tokens_chosen",
    "response_tokens_rejected",
    "chars_chosen",
    "chars_rejected",
)
PREFIX = "column:"
DTYPE = np.dtype("<f8")


def numeric_rows(session: Session, stmt: Any) -> np.ndarray:
    """All rows of a SELECT of numeric columns as one float64 matrix (NULL -> NaN), sorted
    by its first column. The statement (whose only parameters are ints) is rendered with
    its values and run on the DB-API cursor: at a million rows SQLAlchemy's row objects
    and a Python transpose cost more than the query itself."""
    sql = str(stmt.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))
    cursor = session.connection().connection.dbapi_connection.cursor()
    try:
        cursor.execute(sql)
        rows = cursor.fetchall()
    finally:
        cursor.close()
    width = len(stmt.selected_columns)
    m = np.array(rows, dtype=np.float64).reshape(len(rows), width)
    # Rows come back almost in pair-id order already: a stable sort is one quick pass.
    return m[np.argsort(m[:, 0], kind="stable")]


def read_columns(session: Session, run_id: int) -> np.ndarray:
    """The run's ``COLUMNS`` as a matrix (rows by pair id) from its pair_score rows."""
    cols = [getattr(PairScore, name) for name in COLUMNS]
    return numeric_rows(session, select(*cols).where(pair_score_where(session, run_id)))


def store_columns(session: Session, run_id: int) -> int:
    """Store a finished score run's columns (replacing any stored); returns the rows.
    Called by ``db.runs.finish_run`` in the finishing transaction."""
    run = session.get(Run, run_id)
    if run is None or run.kind != "score":
        return 0
    m = read_columns(session, run_id)
    session.execute(
        delete(RunValues).where(RunValues.run_id == run_id, RunValues.series.like(PREFIX + "%"))
    )
    for k, name in enumerate(COLUMNS):
        data = np.ascontiguousarray(m[:, k]).astype(DTYPE).tobytes()
        session.add(RunValues(run_id=run_id, series=PREFIX + name, n=len(m), data=data))
    return len(m)


DPO_COLUMNS = ("pair_id", "gap")
DPO_PREFIX = "dpo_column:"


def store_dpo_columns(session: Session, run_id: int) -> int:
    """Store a finished score_dpo run's pair ids and implicit-reward gaps (pair-id order)
    so readers over every run of a dataset (``db.read.suspects``) need no row scan.
    Called by ``db.runs.finish_run``; returns the rows."""
    m = numeric_rows(
        session, select(DpoScore.pair_id, DpoScore.gap).where(DpoScore.run_id == run_id)
    )
    session.execute(
        delete(RunValues).where(RunValues.run_id == run_id, RunValues.series.like(DPO_PREFIX + "%"))
    )
    for k, name in enumerate(DPO_COLUMNS):
        data = np.ascontiguousarray(m[:, k]).astype(DTYPE).tobytes()
        session.add(RunValues(run_id=run_id, series=DPO_PREFIX + name, n=len(m), data=data))
    return len(m)


def dpo_columns(session: Session, run_id: int) -> np.ndarray:
    """(pair_id, gap) of a score_dpo run as a matrix by pair id: stored when the run
    finished and stored, else read from its rows."""
    run = session.get(Run, run_id)
    if run is not None and run.status == "done":
        rows = dict(
            session.execute(
                select(RunValues.series, RunValues.data).where(
                    RunValues.run_id == run_id, RunValues.series.like(DPO_PREFIX + "%")
                )
            ).all()
        )
        if all(DPO_PREFIX + n in rows for n in DPO_COLUMNS):
            return np.column_stack(
                [np.frombuffer(rows[DPO_PREFIX + n], dtype=DTYPE) for n in DPO_COLUMNS]
            )
    return numeric_rows(
        session, select(DpoScore.pair_id, DpoScore.gap).where(DpoScore.run_id == run_id)
    )


def stored_columns(session: Session, run_id: int) -> np.ndarray | None:
    """The stored columns of a finished run as a matrix, or None when not stored (a
    running run's stored columns would be stale, so only done runs are read)."""
    run = session.get(Run, run_id)
    if run is None or run.status != "done":
        return None
    rows = dict(
        session.execute(
            select(RunValues.series, RunValues.data).where(
                RunValues.run_id == run_id, RunValues.series.like(PREFIX + "%")
            )
        ).all()
    )
    if any(PREFIX + name not in rows for name in COLUMNS):
        return None
    return np.column_stack([np.frombuffer(rows[PREFIX + n], dtype=DTYPE) for n in COLUMNS])


def score_run_columns(session: Session, run_id: int) -> np.ndarray:
    """``COLUMNS`` of a score run: stored when finished and stored, else from its rows."""
    stored = stored_columns(session, run_id)
    return stored if stored is not None else read_columns(session, run_id)


def score_columns(session: Session, run_id: int) -> dict[str, Any]:
    """One read of a score run's numeric columns into numpy arrays (ordered by pair id),
    with response lengths: stored response-only characters and tokens where the run has
    them, else the character length of the pair's texts (``length_source`` says which)."""
    s = PairScore
    cols = [
        s.pair_id,
        s.score_chosen,
        s.score_rejected,
        s.gap,
        s.response_tokens_chosen,
        s.response_tokens_rejected,
    ]
    m = score_run_columns(session, run_id)  # the same columns, stored once when finished
    source = "response-only characters stored at scoring"
    if len(m) and np.isnan(m[:, 6:8]).any():
        # Runs scored before lengths were stored: measure the pair's texts instead.
        stmt = (
            select(*cols, func.length(Pair.chosen), func.length(Pair.rejected))
            .join(Pair, Pair.id == s.pair_id)
            .where(s.run_id == run_id)
        )
        m = numeric_rows(session, stmt)
        source = "length of the pair's response texts (run stored no response lengths)"
    has_tokens = len(m) > 0 and not np.isnan(m[:, 4:6]).any()
    return {
        "pair_id": m[:, 0].astype(np.int64),
        "chosen": m[:, 1],
        "rejected": m[:, 2],
        "gap": m[:, 3],
        "tokens_chosen": m[:, 4] if has_tokens else None,
        "tokens_rejected": m[:, 5] if has_tokens else None,
        "chars_chosen": m[:, 6],
        "chars_rejected": m[:, 7],
        "length_source": source,
    }
