"""A checkpoint series: one training run's eval split scored at several steps.

The points are the runs linked to the training run (``db.runs.link_series``: parent and
``series_step``): score runs of an RM, score_dpo runs (implicit rewards) of a policy;
plus an RM run's "before" run as step 0 (untrained head) and its "after" run at the last
step. All numbers are on the pairs every point scored. A gap of exactly 0 counts as
wrong, as in every accuracy; "learned" at a step means wrong at the previous point and
right at this one, "forgotten" the reverse.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.lookup import run_record
from db.schema import DpoScore, PairScore, Run
from preflens.calibration import ece, mirrored
from preflens.errors import QueryError
from preflens.uncertainty import (
    DEFAULT_B,
    DEFAULT_SEED,
    bootstrap_auc,
    bootstrap_mean,
    bootstrap_paired_difference,
    mcnemar_exact,
    proportion,
)

SERIES_KINDS = ("train_rm", "train_dpo", "series")
# A point is a score run (RM scores) or a score_dpo run (implicit rewards of a policy).
POINT_KINDS = ("score", "score_dpo")
MAX_IDS = 200
DEFAULT_TRAJECTORIES = 12
CONVENTIONS = {
    "accuracy": "share of pairs with gap > 0 (a tie is wrong), Wilson 95% interval",
    "auc": "Mann-Whitney AUC of chosen vs rejected scores, bootstrap 95% (pairs resampled)",
    "gap_mean": "mean chosen - rejected score, bootstrap 95%",
    "ece": "expected calibration error of sigmoid(gap), both orderings, 10 equal bins",
    "learned": "pairs wrong at the previous point and right at this one",
    "forgotten": "pairs right at the previous point and wrong at this one",
    "difference": "accuracy of the later point - the earlier, paired bootstrap 95%",
    "mcnemar_p": "exact McNemar test on the pairs that changed",
    "oscillating": "pairs whose right/wrong status changed more than once along the series",
    "pairs": "only the pairs every point scored",
}


def series_points(session: Session, run_id: int) -> list[tuple[int, int]]:
    """(step, score run id) of every point of the series of ``run_id``, by step. A
    ``QueryError`` if the run is not a training or series run."""
    run = run_record(session, run_id)
    if run.kind not in SERIES_KINDS:
        raise QueryError(
            f"run {run_id} is a {run.kind} run; a checkpoint series belongs to a "
            "train_rm, train_dpo or series run"
        )
    points: dict[int, int] = {}
    scores = (run.summary or {}).get("scores") or {}
    before = (scores.get("before") or {}).get("run")
    if before is not None:
        points[0] = int(before)
    after = (scores.get("after") or {}).get("run")
    children = session.scalars(
        select(Run).where(Run.parent_run_id == run_id, Run.kind.in_(POINT_KINDS)).order_by(Run.id)
    ).all()
    for child in children:
        step = (child.config or {}).get("series_step")
        if step is None and child.id == after:
            step = (run.summary or {}).get("steps")
        if step is not None:
            points[int(step)] = child.id
    return sorted(points.items())


def _columns(session: Session, run_id: int) -> tuple[Any, Any, Any, Any]:
    """(table, pair id, chosen, rejected) columns of a point's rows: RM scores of a score
    run, implicit rewards of a score_dpo run."""
    if session.get(Run, run_id).kind == "score_dpo":
        return DpoScore, DpoScore.pair_id, DpoScore.reward_chosen, DpoScore.reward_rejected
    return PairScore, PairScore.pair_id, PairScore.score_chosen, PairScore.score_rejected


def _gap_matrix(session: Session, run_ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """(pair ids every run scored, gaps: runs x pairs), pairs by id."""
    per_run = []
    for rid in run_ids:
        table, pid, _, _ = _columns(session, rid)
        rows = session.execute(select(pid, table.gap).where(table.run_id == rid)).all()
        per_run.append(dict(rows))
    common = sorted(set.intersection(*(set(d) for d in per_run))) if per_run else []
    gaps = np.array([[d[p] for p in common] for d in per_run], dtype=np.float64)
    return np.asarray(common, dtype=np.int64), gaps.reshape(len(run_ids), len(common))


def _chosen_rejected(session: Session, run_id: int, ids: np.ndarray) -> tuple[np.ndarray, ...]:
    table, pid_col, chosen, rejected = _columns(session, run_id)
    rows = {
        pid: (c, r)
        for pid, c, r in session.execute(
            select(pid_col, chosen, rejected).where(table.run_id == run_id)
        )
    }
    both = np.array([rows[int(p)] for p in ids], dtype=np.float64).reshape(-1, 2)
    return both[:, 0], both[:, 1]


def _compare(
    earlier: np.ndarray, later: np.ndarray, ids: np.ndarray, b: int, seed: int, max_ids: int
) -> dict[str, Any]:
    """Later point against an earlier one on the same pairs (right = gap > 0)."""
    ra, rb = earlier > 0, later > 0
    learned, forgotten = ~ra & rb, ra & ~rb
    return {
        "learned": int(learned.sum()),
        "forgotten": int(forgotten.sum()),
        "learned_ids": ids[learned][:max_ids].tolist(),
        "forgotten_ids": ids[forgotten][:max_ids].tolist(),
        "difference": bootstrap_paired_difference(rb, ra, b, seed),
        "mcnemar_p": mcnemar_exact(int(learned.sum()), int(forgotten.sum())),
    }


def oscillating(ids: np.ndarray, gaps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(pair ids, number of right/wrong changes) of the pairs that changed more than
    once along the points (rows of ``gaps``), most changes first."""
    right = gaps > 0
    changes = (right[1:] != right[:-1]).sum(axis=0) if len(right) > 1 else np.zeros(len(ids))
    mask = changes > 1
    order = np.argsort(-changes[mask], kind="stable")
    return ids[mask][order], changes[mask][order].astype(np.int64)


def series(
    session: Session,
    run_id: int,
    pair_ids: Sequence[int] | None = None,
    b: int = DEFAULT_B,
    seed: int = DEFAULT_SEED,
    max_ids: int = MAX_IDS,
) -> dict[str, Any]:
    """The checkpoint series of training (or series) run ``run_id``: per point its step,
    score run, accuracy (Wilson), AUC and gap mean (bootstrap) and ECE; each point against
    the previous one (learned and forgotten pairs, paired difference, McNemar); the best
    step (highest accuracy, the earliest on a tie) against the last; the pairs that
    oscillate; and per-pair gap trajectories for ``pair_ids`` (default: the first
    oscillating pairs)."""
    points = series_points(session, run_id)
    steps = [s for s, _ in points]
    run_ids = [r for _, r in points]
    ids, gaps = _gap_matrix(session, run_ids)
    n = len(ids)
    out_points = []
    for i, (step, rid) in enumerate(points):
        g = gaps[i]
        chosen, rejected = _chosen_rejected(session, rid, ids)
        point = {
            "step": step,
            "run_id": rid,
            "n": n,
            "accuracy": proportion(int((g > 0).sum()), n),
            "auc": bootstrap_auc(chosen, rejected, b, seed),
            "gap_mean": bootstrap_mean(g, b, seed),
            "ece": ece(*mirrored(g)) if n else None,
            "vs_previous": None,
        }
        if i > 0:
            point["vs_previous"] = _compare(gaps[i - 1], g, ids, b, seed, max_ids)
        out_points.append(point)
    best = None
    if points and n:
        acc = (gaps > 0).sum(axis=1)
        bi = int(np.argmax(acc))  # argmax takes the first maximum: the earliest step
        last = len(points) - 1
        best = {
            "step": steps[bi],
            "run_id": run_ids[bi],
            "last_step": steps[last],
            "last_run_id": run_ids[last],
            # the last point against the best one: a negative difference is what was lost
            "last_vs_best": _compare(gaps[bi], gaps[last], ids, b, seed, max_ids),
        }
    osc_ids, osc_changes = oscillating(ids, gaps)
    if pair_ids is None:
        chosen_ids = osc_ids[:DEFAULT_TRAJECTORIES].tolist()
    else:
        known = set(ids.tolist())
        chosen_ids = [int(p) for p in pair_ids if int(p) in known]
    index = {int(p): j for j, p in enumerate(ids)}
    trajectories = [
        {"pair_id": p, "gaps": [float(x) for x in gaps[:, index[p]]]} for p in chosen_ids
    ]
    return {
        "run_id": run_id,
        "kind": run_record(session, run_id).kind,
        "n_pairs": n,
        "steps": steps,
        "points": out_points,
        "best": best,
        "oscillating": {
            "count": len(osc_ids),
            "pair_ids": osc_ids[:max_ids].tolist(),
            "changes": osc_changes[:max_ids].tolist(),
            "ids_capped_at": max_ids,
        },
        "trajectories": trajectories,
        "conventions": CONVENTIONS,
    }
