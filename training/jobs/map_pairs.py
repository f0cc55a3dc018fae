"""The job behind ``preflens map``: read a score run's kept state vectors, map and cluster
its pairs (``preflens.failure_map``) and store the result once per run (``run_map`` and
one ``map_point`` per pair); a new map of the same run replaces the old one. Needs no
model: the vectors were kept by ``score --keep-states``."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from sqlalchemy import delete, insert
from sqlalchemy.orm import Session, sessionmaker

from db.lookup import run_record
from db.read.maps import MAP_PREVIEW_CHARS, MAX_MAP_POINTS, count_states, pair_states
from db.schema import MapPoint, RunMap
from db.session import writing
from preflens import failure_map
from preflens.errors import ConfigError, QueryError

log = logging.getLogger(__name__)

_INSERT_ROWS = 5000


def check_options(on: str, method: str, clusterer: str, k: int | None) -> None:
    """Refuse unknown options before any work."""
    for value, allowed, what in (
        (on, failure_map.REPRESENTATIONS, "--on"),
        (method, failure_map.METHODS, "--method"),
        (clusterer, failure_map.CLUSTERERS, "--clusters"),
    ):
        if value not in allowed:
            raise ConfigError(f"{what} {value!r}: choose from {', '.join(allowed)}")
    if k is not None and k < 2:
        raise ConfigError(f"--k {k}: a map needs at least 2 clusters")


def run_map_job(
    make_session: sessionmaker[Session],
    run_id: int,
    *,
    on: str = "prompt",
    method: str = "auto",
    clusterer: str = "kmeans",
    k: int | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Map a score run's pairs and store the map; returns the stored options and clusters
    (worst accuracy first). Refuses a run that is not a finished score run with kept
    states."""
    check_options(on, method, clusterer, k)
    try:
        import sklearn  # noqa: F401
    except ImportError as exc:
        raise ConfigError("preflens map needs scikit-learn: pip install 'preflens[map]'") from exc
    with make_session() as session:
        run = run_record(session, run_id)
        if run.kind != "score":
            raise QueryError(f"run {run_id} is a {run.kind} run; preflens map reads score runs")
        if count_states(session, run_id) == 0:
            raise QueryError(
                f"run {run_id} kept no state vectors; score again with --keep-states "
                "(a new run; the states come from the same forward pass as the scores)"
            )
        states = pair_states(session, run_id)
    n = len(states["pair_id"])
    if n < 3:
        raise QueryError(f"run {run_id} has {n} pairs with states; a map needs at least 3")
    result = failure_map.build_map(states, on, method, clusterer, seed, k)
    # The points a page draws, stored with the map (one row read, no lookup per point): a
    # seeded sample of MAX_MAP_POINTS in random order (every pair of a smaller run), so
    # the first m of them are a uniform sample of m.
    order = np.random.default_rng(seed).permutation(n)[:MAX_MAP_POINTS]
    xy, labels = result["xy"], result["labels"]
    sample = [
        {
            "pair_id": int(states["pair_id"][i]),
            "x": float(xy[i, 0]),
            "y": float(xy[i, 1]),
            "cluster": int(labels[i]),
            "correct": bool(states["gap"][i] > 0),
            "gap": float(states["gap"][i]),
            "preview": (states["prompt_text"][i] or "")[:MAP_PREVIEW_CHARS],
        }
        for i in order
    ]
    params = {"seed": seed, "k": k, "asked_method": method, "sample_points": sample}
    with writing(make_session) as session:
        session.execute(delete(MapPoint).where(MapPoint.run_id == run_id))
        session.execute(delete(RunMap).where(RunMap.run_id == run_id))
        session.add(
            RunMap(
                run_id=run_id,
                representation=on,
                method=result["method"],
                clusterer=clusterer,
                n=n,
                params=params,
                clusters=result["clusters"],
            )
        )
        rows = [
            {
                "run_id": run_id,
                "pair_id": int(pid),
                "x": float(xy[i, 0]),
                "y": float(xy[i, 1]),
                "cluster": int(labels[i]),
            }
            for i, pid in enumerate(states["pair_id"])
        ]
        for start in range(0, len(rows), _INSERT_ROWS):
            session.execute(insert(MapPoint), rows[start : start + _INSERT_ROWS])
    log.info("run %s mapped: %s pairs, %s clusters", run_id, n, len(result["clusters"]))
    return {
        "run_id": run_id,
        "representation": on,
        "method": result["method"],
        "clusterer": clusterer,
        "n": n,
        "clusters": result["clusters"],
    }
