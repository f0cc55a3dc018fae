"""Reads of kept state vectors and of a run's stored map (``preflens map``).

``map_clusters`` gives every mapped pair's cluster id (-1: not in any cluster), for
per-cluster views such as slices; ``map_view`` is what the API and the Map page show: the
clusters (worst accuracy first) and a bounded, seeded sample of the points.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.read.common import scored_run
from db.schema import Generation, GenerationState, MapPoint, Pair, PairScore, PairState, RunMap
from preflens.errors import NotFoundError
from preflens.states import unpack

MAX_MAP_POINTS = 5000
MAP_PREVIEW_CHARS = 120  # a hover preview; Cases shows the whole pair


def map_clusters(session: Session, run_id: int) -> dict[int, int]:
    """Per mapped pair of a score run, its cluster id (``-1``: noise, in no cluster);
    empty when the run has no stored map."""
    rows = session.execute(
        select(MapPoint.pair_id, MapPoint.cluster).where(MapPoint.run_id == run_id)
    ).all()
    return {int(p): int(c) for p, c in rows}


def stored_map(session: Session, run_id: int) -> RunMap | None:
    """The run's stored map record (options and clusters), or None."""
    return session.get(RunMap, run_id)


def count_states(session: Session, run_id: int) -> int:
    """Pairs of the run with kept state vectors."""
    return int(
        session.scalar(
            select(func.count()).select_from(PairState).where(PairState.run_id == run_id)
        )
        or 0
    )


def pair_states(session: Session, run_id: int) -> dict[str, np.ndarray]:
    """The kept vectors of a run's pairs, ordered by pair id: ``pair_id`` and ``prompt``,
    ``chosen``, ``rejected`` (float32 arrays, one row per pair), with the pair's ``gap``
    and its prompt text for naming clusters."""
    rows = session.execute(
        select(
            PairState.pair_id,
            PairState.prompt,
            PairState.chosen,
            PairState.rejected,
            PairScore.gap,
            PairScore.chars_chosen,
            PairScore.chars_rejected,
            Pair.prompt_text,
        )
        .join(
            PairScore,
            (PairScore.run_id == PairState.run_id) & (PairScore.pair_id == PairState.pair_id),
        )
        .join(Pair, Pair.id == PairState.pair_id)
        .where(PairState.run_id == run_id)
        .order_by(PairState.pair_id)
    ).all()
    return {
        "pair_id": np.array([r[0] for r in rows], dtype=np.int64),
        "prompt": unpack([r[1] for r in rows]),
        "chosen": unpack([r[2] for r in rows]),
        "rejected": unpack([r[3] for r in rows]),
        "gap": np.array([r[4] for r in rows], dtype=np.float64),
        "chars_chosen": np.array([r[5] or 0 for r in rows], dtype=np.int64),
        "chars_rejected": np.array([r[6] or 0 for r in rows], dtype=np.int64),
        "prompt_text": [r[7] for r in rows],
    }


def generation_states(session: Session, run_id: int) -> dict[str, Any]:
    """The kept vectors of a score_generations run's answers, ordered by generation id:
    ``generation_id``, ``pair_id``, ``policy`` and ``state`` (float32, one row per
    answer); empty arrays when the run kept none."""
    rows = session.execute(
        select(Generation.id, Generation.pair_id, Generation.policy, GenerationState.state)
        .join(Generation, Generation.id == GenerationState.generation_id)
        .where(GenerationState.run_id == run_id)
        .order_by(GenerationState.generation_id)
    ).all()
    return {
        "generation_id": np.array([r[0] for r in rows], dtype=np.int64),
        "pair_id": np.array([r[1] for r in rows], dtype=np.int64),
        "policy": [r[2] for r in rows],
        "state": unpack([r[3] for r in rows]),
    }


def map_view(session: Session, run_id: int, max_points: int = MAX_MAP_POINTS) -> dict[str, Any]:
    """The stored map of a score run: its options, clusters (worst accuracy first) and at
    most ``max_points`` points (a seeded sample when there are more; ``sampled`` says so),
    each with pair id, x, y, cluster, correct (gap > 0; a tie is wrong), gap and the
    prompt's first 120 characters. Raises ``NotFoundError`` when the run has no map."""
    scored_run(session, run_id)
    record = stored_map(session, run_id)
    if record is None:
        raise NotFoundError(f"run {run_id} has no map; run `preflens map {run_id}` first")
    total = int(record.n)
    # Stored by the map job: a seeded sample in random order (all points of a small run),
    # so its first max_points are a uniform sample.
    points = list(record.params.get("sample_points") or [])[:max_points]
    points.sort(key=lambda d: d["pair_id"])
    clusters = sorted(
        record.clusters,
        key=lambda c: (c["accuracy"]["value"] is None, c["accuracy"]["value"] or 0.0, c["id"]),
    )
    return {
        "run_id": run_id,
        "representation": record.representation,
        "method": record.method,
        "clusterer": record.clusterer,
        "n": record.n,
        "params": {k: v for k, v in record.params.items() if k != "sample_points"},
        "created_at": record.created_at.isoformat(),
        "clusters": clusters,
        "points": points,
        "points_total": total,
        "sampled": total > len(points),
    }


def mapped_runs(session: Session) -> list[int]:
    """Ids of the runs that have a stored map, newest map first."""
    return [
        int(r)
        for r in session.scalars(
            select(RunMap.run_id).order_by(RunMap.created_at.desc(), RunMap.run_id.desc())
        )
    ]
