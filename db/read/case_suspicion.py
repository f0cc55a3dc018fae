"""The ``suspicion`` order of a case search: a score run's matching pairs ranked as
``db.read.suspects.rank_pairs`` ranks its dataset (one computation for the whole dataset,
every finished score and score_dpo run on it as a signal), most suspicious first; pairs no
signal run scored come last, by pair id."""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from db.read.suspects import SIGNAL_KINDS, rank_pairs
from db.schema import Dataset, Run
from preflens.errors import QueryError


def suspicion_order(session: Session, run: Run, stmt: Select) -> dict[str, Any]:
    """The pair ids ``stmt`` matches in suspicion order (``pair_id``), each one's
    ``suspicion`` (NaN: no signal) and ``signals`` (0: none), and the signal ``runs``
    (ids) the ranking used, which a cursor must pin."""
    sub = stmt.subquery()
    matched = np.fromiter(session.scalars(select(sub.c.pair_id)), dtype=np.int64)
    name = session.get(Dataset, run.dataset_id).name
    has_signal = session.scalars(
        select(Run.id).where(
            Run.dataset_id == run.dataset_id, Run.kind.in_(SIGNAL_KINDS), Run.status == "done"
        )
    ).first()
    if has_signal is None:  # e.g. the run itself is still being written
        empty = np.zeros(0, dtype=np.int64)
        ranked = {"pair_id": empty, "suspicion": np.zeros(0), "signals": empty, "runs": []}
    else:
        ranked = rank_pairs(session, name)
    ids = ranked["pair_id"]
    keep = np.isin(ids, matched)
    rest = np.setdiff1d(matched, ids)  # sorted ascending
    return {
        "pair_id": np.concatenate([ids[keep], rest]),
        "suspicion": np.concatenate([ranked["suspicion"][keep], np.full(len(rest), np.nan)]),
        "signals": np.concatenate([ranked["signals"][keep], np.zeros(len(rest), np.int64)]),
        "runs": [r["run"] for r in ranked["runs"]],
    }


def suspicion_page(
    session: Session,
    stmt: Select,
    pair_id: Any,
    order: dict[str, Any],
    after: tuple[float, int] | None,
    limit: int,
) -> tuple[list[Any], list[tuple[float | None, int]], bool]:
    """Rows of ``stmt`` for the ``limit`` pairs after the cursor's pair in ``order``, in
    that order, with each one's (suspicion or None, signals), and whether more follow.
    The cursor names the last pair returned, so a page resumes right after it."""
    ids = order["pair_id"]
    start = 0
    if after is not None:
        found = np.flatnonzero(ids == after[1])
        if not len(found):
            raise QueryError("cursor's pair no longer matches this query; start without cursor")
        start = int(found[0]) + 1
    page_ids = [int(p) for p in ids[start : start + limit]]
    rows = {r.pair_id: r for r in session.execute(stmt.where(pair_id.in_(page_ids)))}
    scores = []
    for i in range(start, start + len(page_ids)):
        s = float(order["suspicion"][i])
        scores.append((None if np.isnan(s) else s, int(order["signals"][i])))
    return [rows[p] for p in page_ids], scores, start + limit < len(ids)
