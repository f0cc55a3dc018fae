"""Materialised value series: the sorted values of a finished run, one array per series.

A *series* is one column of values a distribution view reads: ``chosen``, ``rejected``
or ``gap`` of a score run; ``["score", policy]`` (one policy's RM scores) or
``["gap", a, b]`` (score_A - score_B on the prompts both policies answered) of a
score_generations run. When a run finishes, ``materialise_values`` stores each series
once in ``run_values`` as packed little-endian float64, sorted ascending; quantiles, the
CDF, histograms and percentiles of a finished run then come from one read of one blob
(numpy on the array: exact numpy semantics) instead of a sort or scan of its rows.

A run that is not done reads its raw rows (its values still change); a finished run
without a stored series (finished before this existed) computes it from its rows on
first read and stores it when the session's engine can write (read-only engines just
use the computed array). The raw-row path and the stored path return the same array.
"""

from __future__ import annotations

import itertools
import json
import logging
from typing import Any

import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from db.read.common import (
    GENERATION_SIDES,
    PAIR_SIDES,
    comparison,
    default_comparison,
    pair_score_where,
    run_policies,
    value_series,
)
from db.schema import Generation, GenerationScore, PairScore, Run, RunValues
from preflens.errors import QueryError

log = logging.getLogger(__name__)

DTYPE = np.dtype("<f8")


def pack(values: np.ndarray) -> bytes:
    """Sorted values as packed little-endian float64 (what ``run_values.data`` holds)."""
    return np.sort(np.asarray(values, dtype=np.float64)).astype(DTYPE).tobytes()


def unpack(data: bytes) -> np.ndarray:
    """The array of a stored series (read-only view of the blob)."""
    return np.frombuffer(data, dtype=DTYPE)


def series_key(run: Run, side: str, policy: str | None, a: str | None, b: str | None) -> str:
    """The ``run_values.series`` name of one side of a run (policies resolved first)."""
    if run.kind == "score":
        return side
    if side == "score":
        return json.dumps(["score", policy])
    return json.dumps(["gap", a, b])


def column_array(session: Session, stmt: Any, width: int) -> np.ndarray:
    """The rows of ``stmt`` (``width`` float columns) as an (n, width) array. Flattened
    through an iterator: ``numpy.array`` over Row objects probes each one slowly."""
    rows = session.execute(stmt).all()
    flat = itertools.chain.from_iterable(rows)
    return np.fromiter(flat, dtype=np.float64, count=len(rows) * width).reshape(-1, width)


def _raw(session: Session, run: Run, side: str, policy: str | None, a: str | None, b: str | None):
    """(unsorted values from the run's rows, what they describe)."""
    stmt, described = value_series(session, run, side, policy, a, b)
    return np.array(session.scalars(stmt).all(), dtype=np.float64), described


def _stored(session: Session, run_id: int, key: str) -> np.ndarray | None:
    data = session.scalar(
        select(RunValues.data).where(RunValues.run_id == run_id, RunValues.series == key)
    )
    return None if data is None else unpack(data)


def _store_lazily(session: Session, run_id: int, key: str, values: np.ndarray) -> None:
    """Store a series computed on first read, in its own short transaction (the caller's
    session stays read-only and uncommitted). A read-only engine, a concurrent reader that
    stored it first, or a locked store just leave it for the next read."""
    engine = session.get_bind()
    if engine.url.query.get("mode") == "ro":
        return
    try:
        with engine.begin() as conn:
            conn.execute(
                RunValues.__table__.insert().values(
                    run_id=run_id, series=key, n=len(values), data=pack(values)
                )
            )
    except DBAPIError as exc:  # read-only transaction, duplicate key, lock timeout
        log.debug("series %s of run %s not stored: %s", key, run_id, exc)


def _resolve(
    session: Session, run: Run, side: str, policy: str | None, a: str | None, b: str | None
) -> tuple[str | None, str | None]:
    """Validate the side and fill in the default comparison, without scanning rows."""
    if run.kind == "score":
        if side not in PAIR_SIDES:
            raise QueryError(f"side {side!r}: a score run has sides {', '.join(PAIR_SIDES)}")
        return a, b
    if side not in GENERATION_SIDES:
        raise QueryError(
            f"side {side!r}: a score_generations run has sides {', '.join(GENERATION_SIDES)}"
        )
    if side == "gap":
        if (a is None) != (b is None):
            raise QueryError(
                "name both policies, a= and b=, or neither (the run's first comparison)"
            )
        if a is None:
            a, b = default_comparison(session, run)
    return a, b


def series(
    session: Session,
    run: Run,
    side: str,
    policy: str | None = None,
    a: str | None = None,
    b: str | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """The sorted values of one side of ``run`` and what they describe (``side`` and
    ``policy`` or ``a``/``b``). Stored once for a finished run; from the rows otherwise."""
    a, b = _resolve(session, run, side, policy, a, b)
    described: dict[str, Any] = {"side": side}
    if run.kind != "score":
        described |= {"policy": policy} if side == "score" else {"a": a, "b": b}
    if run.status == "done":
        key = series_key(run, side, policy, a, b)
        stored = _stored(session, run.id, key)
        if stored is not None:
            return stored, described
    values, described = _raw(session, run, side, policy, a, b)  # validates policies
    values.sort()
    if run.status == "done":
        _store_lazily(session, run.id, series_key(run, side, policy, a, b), values)
    return values, described


def materialise_values(session: Session, run_id: int) -> int:
    """Store every series of a finished score or score_generations run (replacing what
    was stored); returns how many series. Called by ``db.runs.finish_run`` in the
    finishing transaction: one scan of the run's rows, one sort per series."""
    run = session.get(Run, run_id)
    if run is None or run.kind not in ("score", "score_generations"):
        return 0
    arrays: dict[str, np.ndarray] = {}
    if run.kind == "score":
        s = PairScore
        cols = column_array(
            session,
            select(s.score_chosen, s.score_rejected, s.gap).where(
                pair_score_where(session, run_id)
            ),
            3,
        )
        arrays = {"chosen": cols[:, 0], "rejected": cols[:, 1], "gap": cols[:, 2]}
    else:
        for name in run_policies(session, run):
            stmt = (
                select(GenerationScore.score)
                .join(Generation, Generation.id == GenerationScore.generation_id)
                .where(GenerationScore.run_id == run_id, Generation.policy == name)
            )
            arrays[json.dumps(["score", name])] = np.array(session.scalars(stmt).all(), float)
        pairs = [(c["a"], c["b"]) for c in (run.summary or {}).get("comparisons") or []]
        for a, b in pairs:
            _, _, parts = comparison(session, run, a, b)
            gaps = session.scalars(parts["select"](parts["gap"])).all()
            arrays[json.dumps(["gap", a, b])] = np.array(gaps, dtype=np.float64)
    # Replace these series only: run_values also holds other modules' series of the run.
    session.execute(
        delete(RunValues).where(RunValues.run_id == run_id, RunValues.series.in_(list(arrays)))
    )
    for key, values in arrays.items():
        session.add(RunValues(run_id=run_id, series=key, n=len(values), data=pack(values)))
    session.flush()
    return len(arrays)
