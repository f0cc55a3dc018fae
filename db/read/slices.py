"""Slices of a score run (category, split, length-difference bin, and the clusters of the
run's stored map when it has one) with tests and Holm/Benjamini-Hochberg corrections, for
one run or two runs on the same pairs (``preflens.slices`` holds the statistics)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.read.columns import score_run_columns
from db.read.common import scored_run
from db.read.compare import check_comparable
from db.read.maps import map_clusters, stored_map
from db.schema import PairScore
from preflens.errors import QueryError
from preflens.slices import ALPHA, length_bin, paired_slice_table, slice_table


def _rows(session: Session, run_id: int) -> dict[str, np.ndarray]:
    """Per pair of a score run (by pair id): gap and response length difference from the
    run's numeric columns (stored when it finished), category and split from its rows
    (read on the DB-API cursor: row objects are the slow part at 100k pairs)."""
    if scored_run(session, run_id).kind != "score":
        raise QueryError(f"run {run_id} is not a score run (pairs scored chosen vs rejected)")
    m = score_run_columns(session, run_id)
    s = PairScore
    stmt = select(s.pair_id, s.category, s.split).where(s.run_id == run_id).order_by(s.pair_id)
    sql = str(stmt.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))
    cursor = session.connection().connection.dbapi_connection.cursor()
    try:
        cursor.execute(sql)
        labels = cursor.fetchall()
    finally:
        cursor.close()
    return {
        "pair_id": m[:, 0].astype(np.int64),
        "gap": m[:, 3],
        "category": np.array([r[1] for r in labels], dtype=object),
        "split": np.array([r[2] for r in labels], dtype=object),
        "length": m[:, 6] - m[:, 7],  # NaN where a length is unknown
    }


def _cluster_labels(session: Session, run_id: int, ids: np.ndarray) -> np.ndarray | None:
    clusters = map_clusters(session, run_id)
    if not clusters:
        return None
    record = stored_map(session, run_id)
    names = {int(c["id"]): c.get("name") for c in (record.clusters if record else [])}

    def label(pid: int) -> str:
        c = clusters.get(int(pid))
        if c is None:
            return "not mapped"
        name = names.get(c)
        return f"{c}: {name}" if name else str(c)

    return np.array([label(p) for p in ids], dtype=object)


def _groups(session: Session, run_id: int, rows: dict[str, np.ndarray]) -> dict[str, Any]:
    """Groupings that split the run into more than one slice (a grouping with a single
    value tests nothing and is left out)."""
    groups: dict[str, Any] = {}
    if any(c is not None for c in rows["category"]):
        groups["category"] = np.array(
            ["(none)" if c is None else c for c in rows["category"]], dtype=object
        )
    groups["split"] = rows["split"].astype(str)
    if not np.isnan(rows["length"]).all():
        groups["length_difference"] = length_bin(rows["length"])
    clusters = _cluster_labels(session, run_id, rows["pair_id"])
    if clusters is not None:
        groups["cluster"] = clusters
    return {k: v for k, v in groups.items() if len(set(v.tolist())) > 1}


def run_slices(
    session: Session, run_id: int, against: int | None = None, alpha: float = ALPHA
) -> dict[str, Any]:
    """Slices of score run ``run_id`` (see ``preflens.slices.slice_table``); with
    ``against`` (a score run on the same pairs, run A), the paired table of ``run_id``
    (run B) against it on the pairs both scored."""
    if not 0 < alpha < 1:
        raise QueryError("alpha must be between 0 and 1")
    rows = _rows(session, run_id)
    groups = _groups(session, run_id, rows)
    if against is None:
        out = slice_table(rows["gap"] > 0, groups, alpha)
        return {"run": run_id, "groupings": list(groups), **out}
    check_comparable(session, against, run_id)
    other = _rows(session, against)
    common, ib, ia = np.intersect1d(
        rows["pair_id"], other["pair_id"], assume_unique=True, return_indices=True
    )
    sub = {k: v[ib] for k, v in groups.items()}
    out = paired_slice_table(other["gap"][ia] > 0, rows["gap"][ib] > 0, sub, alpha)
    return {
        "run_a": against,
        "run_b": run_id,
        "groupings": list(groups),
        "left_out": {
            "only_a": len(other["pair_id"]) - len(common),
            "only_b": len(rows["pair_id"]) - len(common),
        },
        **out,
    }
