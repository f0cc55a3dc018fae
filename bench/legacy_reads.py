"""Today's read implementation, kept for the read-at-scale benchmark: the SQL versions of
histogram, CDF, box statistics, percentile and the score summary as they were before the
materialised value series (``db.read.values``), and case search with the split filter
through a join on ``pair``. ``bench.read_at_scale`` times these and ``db.read`` side by
side in one process. Not used by the product; numbers may differ from numpy (that is what
was fixed): bins by truncation, CDF probabilities by rank, std by E[x^2] - E[x]^2.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any
from unittest import mock

import numpy as np
from sqlalchemy import Integer, case, cast, func, select
from sqlalchemy.orm import Session

import db.read.cases
from db import read
from db.read.common import pair_score_where, scored_run, value_series
from db.read.summaries import score_categories
from db.schema import Generation, GenerationScore, PairScore
from preflens.errors import QueryError


def search_cases(session: Session, run_id: int, **filters: Any) -> dict[str, Any]:
    """``db.read.search_cases`` with the split filter joining ``pair`` (as before
    ``pair_score.split`` was read) and, on PostgreSQL, text search by ILIKE (as before
    the tsvector column was used)."""
    with (
        mock.patch.object(db.read.cases, "split_copied", lambda *_: False),
        mock.patch.object(db.read.cases, "_has_tsvector", lambda *_: False),
    ):
        return read.search_cases(session, run_id, **filters)


def histogram(
    session: Session,
    run_id: int,
    side: str = "gap",
    bins: int = 30,
    lo: float | None = None,
    hi: float | None = None,
    *,
    policy: str | None = None,
    a: str | None = None,
    b: str | None = None,
) -> dict[str, Any]:
    """Counts of a run's values in ``bins`` equal bins over [lo, hi] (default: min..max).

    Bins are half-open except the last, which includes ``hi`` (as ``numpy.histogram``);
    values outside the range are counted in ``below`` / ``above``, not in a bin.
    """
    if bins < 1:
        raise QueryError("bins must be at least 1")
    run = scored_run(session, run_id)
    series, described = value_series(session, run, side, policy, a, b)
    x = series.subquery().c.x
    if lo is None or hi is None:
        vmin, vmax = session.execute(select(func.min(x), func.max(x))).one()
        lo = (vmin if vmin is not None else 0.0) if lo is None else lo
        hi = (vmax if vmax is not None else 1.0) if hi is None else hi
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi < lo:
        raise QueryError(f"range [{lo}, {hi}] is empty or not finite")
    if hi == lo:
        lo, hi = lo - 0.5, hi + 0.5
    width = (hi - lo) / bins
    if session.get_bind().dialect.name == "sqlite":
        inside = cast((x - lo) / width, Integer)  # x >= lo, so truncation is floor
    else:
        inside = cast(func.floor((x - lo) / width), Integer)
    # One pass: -1 below the range, -2 above it, else the bin (the last one closed).
    index = case((x < lo, -1), (x > hi, -2), (x == hi, bins - 1), else_=inside)
    counts, below, above = [0] * bins, 0, 0
    for i, n in session.execute(select(index, func.count()).group_by(index)):
        if i == -1:
            below = int(n)
        elif i == -2:
            above = int(n)
        elif i is not None:  # rounding can put a value just under hi at index `bins`
            counts[min(max(int(i), 0), bins - 1)] += int(n)
    return {
        "run_id": run_id,
        **described,
        "bins": bins,
        "range": [lo, hi],
        "edges": [lo + i * width for i in range(bins)] + [hi],
        "counts": counts,
        "n": sum(counts),
        "below": below,
        "above": above,
    }


def cdf(
    session: Session,
    run_id: int,
    side: str = "gap",
    points: int = 200,
    *,
    policy: str | None = None,
    a: str | None = None,
    b: str | None = None,
) -> dict[str, Any]:
    """Points (x, p) of the empirical CDF: p = share of values <= x, at up to ``points``
    ranks spread evenly from the smallest to the largest value (exact when n <= points)."""
    run = scored_run(session, run_id)
    series, described = value_series(session, run, side, policy, a, b)
    sub = series.subquery()
    n = session.scalar(select(func.count()).select_from(sub)) or 0
    if n == 0:
        return {"run_id": run_id, **described, "n": 0, "x": [], "p": []}
    ranks = sorted({int(round(r)) for r in np.linspace(1, n, min(max(points, 2), n))})
    ranked = select(sub.c.x, func.row_number().over(order_by=sub.c.x).label("rn")).subquery()
    rows = session.execute(
        select(ranked.c.rn, ranked.c.x).where(ranked.c.rn.in_(ranks)).order_by(ranked.c.rn)
    ).all()
    return {
        "run_id": run_id,
        **described,
        "n": n,
        "x": [float(v) for _, v in rows],
        "p": [int(r) / n for r, _ in rows],
    }


def score_percentile(
    session: Session, run_id: int, score: float, policy: str | None = None
) -> float | None:
    """Percentile (0-100) of ``score`` among a run's scores, ties counting half: both sides
    of a score run; every answer (or one ``policy``'s) of a score_generations run."""
    run = scored_run(session, run_id)
    if run.kind == "score":
        s = PairScore
        below, equal, n = session.execute(
            select(
                func.sum(case((s.score_chosen < score, 1), else_=0))
                + func.sum(case((s.score_rejected < score, 1), else_=0)),
                func.sum(case((s.score_chosen == score, 1), else_=0))
                + func.sum(case((s.score_rejected == score, 1), else_=0)),
                2 * func.count(),
            ).where(pair_score_where(session, run_id))
        ).one()
    else:
        g = GenerationScore
        stmt = select(
            func.sum(case((g.score < score, 1), else_=0)),
            func.sum(case((g.score == score, 1), else_=0)),
            func.count(),
        ).where(g.run_id == run_id)
        if policy is not None:
            stmt = stmt.join(Generation, Generation.id == g.generation_id).where(
                Generation.policy == policy
            )
        below, equal, n = session.execute(stmt).one()
    if not n:
        return None
    return 100.0 * ((below or 0) + 0.5 * (equal or 0)) / n


def _values_at_ranks(session: Session, sub: Any, ranks: Sequence[int]) -> dict[int, float]:
    """The values of ``sub.c.x`` at 1-based ranks of its ascending order (one sort)."""
    ranked = select(sub.c.x, func.row_number().over(order_by=sub.c.x).label("rn")).subquery()
    rows = session.execute(
        select(ranked.c.rn, ranked.c.x).where(ranked.c.rn.in_(sorted(set(ranks))))
    ).all()
    return {int(r): float(v) for r, v in rows}


def box_stats(
    session: Session,
    run_id: int,
    side: str = "gap",
    *,
    policy: str | None = None,
    a: str | None = None,
    b: str | None = None,
) -> dict[str, Any]:
    """What a box plot draws, computed in SQL: n, mean, (population) std, min, max, the
    quartiles (linear interpolation between ranks, as ``numpy.quantile``), the whiskers
    (the most extreme values within 1.5 IQR of the box, Tukey's rule) and how many values
    lie beyond them. Sides as in ``histogram``."""
    run = scored_run(session, run_id)
    series, described = value_series(session, run, side, policy, a, b)
    sub = series.subquery()
    x = sub.c.x
    n, mean, vmin, vmax = session.execute(
        select(func.count(), func.avg(x), func.min(x), func.max(x))
    ).one()
    head = {"run_id": run_id, **described, "n": int(n or 0)}
    if not n:
        return head
    var = session.scalar(select(func.avg((x - mean) * (x - mean)))) or 0.0
    positions = {q: (n - 1) * q for q in (0.25, 0.5, 0.75)}
    needed = [r for h in positions.values() for r in (math.floor(h) + 1, min(math.floor(h) + 2, n))]
    at = _values_at_ranks(session, sub, needed)
    quartiles = {}
    for q, h in positions.items():
        low, frac = at[math.floor(h) + 1], h - math.floor(h)
        high = at[min(math.floor(h) + 2, n)]
        quartiles[q] = low + frac * (high - low)
    q1, q3 = quartiles[0.25], quartiles[0.75]
    fence_lo, fence_hi = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
    w_lo, w_hi, out_lo, out_hi = session.execute(
        select(
            func.min(case((x >= fence_lo, x))),
            func.max(case((x <= fence_hi, x))),
            func.sum(case((x < fence_lo, 1), else_=0)),
            func.sum(case((x > fence_hi, 1), else_=0)),
        )
    ).one()
    return {
        **head,
        "mean": float(mean),
        "std": math.sqrt(max(float(var), 0.0)),
        "min": float(vmin),
        "q1": q1,
        "median": quartiles[0.5],
        "q3": q3,
        "max": float(vmax),
        "whisker_low": float(w_lo),
        "whisker_high": float(w_hi),
        "outliers_low": int(out_lo or 0),
        "outliers_high": int(out_hi or 0),
    }


def score_summary(session: Session, run_id: int) -> dict[str, Any]:
    """Accuracy (share of pairs with chosen > rejected), reward mean/std over both sides,
    number of pairs and of truncated responses, computed in SQL."""
    s = PairScore
    row = session.execute(
        select(
            func.count(),
            func.sum(case((s.gap > 0, 1), else_=0)),
            func.sum(s.score_chosen + s.score_rejected),
            func.sum(s.score_chosen * s.score_chosen + s.score_rejected * s.score_rejected),
            func.sum(
                case((s.truncated_chosen, 1), else_=0) + case((s.truncated_rejected, 1), else_=0)
            ),
            func.avg(s.gap),
            func.avg(s.score_chosen),
            func.avg(s.score_rejected),
        ).where(s.run_id == run_id)
    ).one()
    n, correct, total, total_sq, truncated, gap_mean, chosen_mean, rejected_mean = row
    if not n:
        return {"pairs": 0}
    mean = total / (2 * n)
    var = max(total_sq / (2 * n) - mean * mean, 0.0)
    return {
        "pairs": int(n),
        "accuracy": (correct or 0) / n,
        "reward_mean": mean,
        "reward_std": math.sqrt(var),
        "chosen_mean": chosen_mean,
        "rejected_mean": rejected_mean,
        "gap_mean": gap_mean,
        "truncated_responses": int(truncated or 0),
    }


def run_summary(session: Session, run_id: int) -> dict[str, Any]:
    """``db.read.run_summary`` of a finished score run as it was: the stored numbers, and
    the per-category numbers grouped over the run's rows on every call."""
    out = {k: v for k, v in read.run_summary(session, run_id).items() if k != "categories"}
    out["categories"] = score_categories(session, run_id)
    return out
