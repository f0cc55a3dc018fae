"""Distributions of a run's values: histogram, CDF, percentile, box-plot statistics
and the per-prompt scatter of two policies.

Histogram, CDF, box and percentile are computed by numpy from one sorted array per
series (``db.read.values.series``: stored once for a finished run, from the rows of a
running one), so their numbers follow numpy's conventions exactly: ``numpy.histogram``
bins, ``numpy.quantile`` (linear) quartiles, population std.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sqlalchemy import func
from sqlalchemy.orm import Session

from db.read.common import comparison, run_policies, scored_run
from db.read.values import series
from db.schema import Pair
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
    """Counts of a run's values in ``bins`` equal bins over [lo, hi] (default: min..max),
    exactly as ``numpy.histogram(values, bins, (lo, hi))`` counts them.

    Bins are half-open except the last, which includes ``hi``; ``edges`` are numpy's
    (``linspace(lo, hi, bins + 1)``); values outside the range are counted in ``below`` /
    ``above``, not in a bin. An empty range (lo == hi) widens to lo - 0.5 .. hi + 0.5.
    """
    if bins < 1:
        raise QueryError("bins must be at least 1")
    run = scored_run(session, run_id)
    values, described = series(session, run, side, policy, a, b)
    if lo is None:
        lo = float(values[0]) if len(values) else 0.0
    if hi is None:
        hi = float(values[-1]) if len(values) else 1.0
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi < lo:
        raise QueryError(f"range [{lo}, {hi}] is empty or not finite")
    if hi == lo:
        lo, hi = lo - 0.5, hi + 0.5
    try:
        counts, edges = np.histogram(values, bins=bins, range=(lo, hi))
    except ValueError as exc:  # a range so narrow that float64 cannot split it in `bins`
        raise QueryError(f"range [{lo}, {hi}] cannot be cut into {bins} bins: {exc}") from exc
    below = int(np.searchsorted(values, lo, side="left"))
    above = int(len(values) - np.searchsorted(values, hi, side="right"))
    return {
        "run_id": run_id,
        **described,
        "bins": bins,
        "range": [lo, hi],
        "edges": [float(e) for e in edges],
        "counts": [int(c) for c in counts],
        "n": int(counts.sum()),
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
    """Points (x, p) of the empirical CDF, p = share of values <= x (ties included) at
    every point: the values at up to ``points`` ranks spread evenly from the smallest to
    the largest (every distinct value when there are at most ``points`` values); a value
    held by several ranks gives one point."""
    run = scored_run(session, run_id)
    values, described = series(session, run, side, policy, a, b)
    n = len(values)
    if n == 0:
        return {"run_id": run_id, **described, "n": 0, "x": [], "p": []}
    ranks = np.unique(np.rint(np.linspace(1, n, min(max(points, 2), n))).astype(np.int64))
    x = np.unique(values[ranks - 1])
    at_or_below = np.searchsorted(values, x, side="right")
    return {
        "run_id": run_id,
        **described,
        "n": n,
        "x": [float(v) for v in x],
        "p": [float(k) / n for k in at_or_below],
    }


def score_percentile(
    session: Session, run_id: int, score: float, policy: str | None = None
) -> float | None:
    """Percentile (0-100) of ``score`` among a run's scores, ties counting half: both sides
    of a score run; every answer (or one ``policy``'s) of a score_generations run."""
    run = scored_run(session, run_id)
    if run.kind == "score":
        arrays = [series(session, run, side)[0] for side in ("chosen", "rejected")]
    else:
        names = [policy] if policy is not None else run_policies(session, run)
        arrays = [series(session, run, "score", name)[0] for name in names]
    below = sum(int(np.searchsorted(v, score, side="left")) for v in arrays)
    at_or_below = sum(int(np.searchsorted(v, score, side="right")) for v in arrays)
    n = sum(len(v) for v in arrays)
    if not n:
        return None
    return 100.0 * (below + 0.5 * (at_or_below - below)) / n


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


def box_stats(
    session: Session,
    run_id: int,
    side: str = "gap",
    *,
    policy: str | None = None,
    a: str | None = None,
    b: str | None = None,
) -> dict[str, Any]:
    """What a box plot draws: n, mean, (population) std, min, max, the quartiles
    (``numpy.quantile``, linear interpolation between ranks), the whiskers (the most
    extreme values within 1.5 IQR of the box, Tukey's rule) and how many values lie
    beyond them. Sides as in ``histogram``."""
    run = scored_run(session, run_id)
    values, described = series(session, run, side, policy, a, b)
    n = len(values)
    head = {"run_id": run_id, **described, "n": n}
    if not n:
        return head
    q1, median, q3 = (float(q) for q in np.quantile(values, [0.25, 0.5, 0.75]))
    fence_lo, fence_hi = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
    first_in = int(np.searchsorted(values, fence_lo, side="left"))
    last_in = int(np.searchsorted(values, fence_hi, side="right"))
    return {
        **head,
        "mean": float(np.mean(values)),
        "std": float(np.std(values)),
        "min": float(values[0]),
        "q1": q1,
        "median": median,
        "q3": q3,
        "max": float(values[-1]),
        "whisker_low": float(values[first_in]),
        "whisker_high": float(values[last_in - 1]),
        "outliers_low": first_in,
        "outliers_high": n - last_in,
    }
