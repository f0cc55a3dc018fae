"""Distributions of a run's values: histogram, CDF, percentile, box-plot statistics
and the per-prompt scatter of two policies."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import Integer, case, cast, func, select
from sqlalchemy.orm import Session

from db.read.common import comparison, pair_score_where, scored_run, value_series
from db.schema import (
    Generation,
    GenerationScore,
    Pair,
    PairScore,
)
from preflens.errors import QueryError


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


def generation_scatter(
    session: Session, run_id: int, a: str | None = None, b: str | None = None
) -> dict[str, Any]:
    """Per prompt both policies answered: score_A, score_B, tokens, characters and finish
    reasons of both answers, and the pair's category (texts are not loaded)."""
    run = scored_run(session, run_id)
    if run.kind != "score_generations":
        raise QueryError(f"run {run_id} is a {run.kind} run; the scatter needs score_generations")
    a, b, p = comparison(session, run, a, b)
    ga, gb, sa, sb = p["ga"], p["gb"], p["sa"], p["sb"]
    stmt = (
        p["select"](
            ga.pair_id,
            Pair.category,
            sa.score,
            sb.score,
            ga.n_tokens,
            gb.n_tokens,
            func.length(ga.text),
            func.length(gb.text),
            ga.finish_reason,
            gb.finish_reason,
        )
        .join(Pair, Pair.id == ga.pair_id)
        .order_by(ga.pair_id)
    )
    keys = ("pair_id", "category", "score_a", "score_b", "tokens_a", "tokens_b")
    keys += ("chars_a", "chars_b", "finish_a", "finish_b")
    points = [dict(zip(keys, row, strict=True)) for row in session.execute(stmt)]
    return {"run_id": run_id, "a": a, "b": b, "n": len(points), "points": points}


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
