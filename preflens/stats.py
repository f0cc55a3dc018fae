"""Pure numpy statistics for comparing policies (no torch, no database): what the job
stores when it finishes and what the API and dashboard compute live."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import special


def ranks(x: np.ndarray) -> np.ndarray:
    """Ranks from 1, ties sharing their average rank (as Spearman's rho needs)."""
    x = np.asarray(x)
    n = len(x)
    order = np.argsort(x)  # ties get their average rank, so the sort need not be stable
    xs = x[order]
    # Runs of equal values in the sorted array (one pass; no second sort as np.unique does).
    first = np.flatnonzero(np.r_[True, xs[1:] != xs[:-1]]) if n else np.array([], dtype=int)
    counts = np.diff(np.r_[first, n])
    r = np.empty(n, dtype=np.float64)
    r[order] = np.repeat(first + (counts - 1) / 2 + 1, counts)
    return r


def pearson(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Pearson correlation; None when undefined (fewer than 2 points or a constant side)."""
    a, b = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if len(a) < 2 or a.std() == 0 or b.std() == 0:
        return None
    return float(np.corrcoef(a, b)[0, 1])


def spearman(
    x: Sequence[float], y: Sequence[float], x_ranks: np.ndarray | None = None
) -> float | None:
    """Spearman correlation (Pearson on average ranks); ``x_ranks`` are the ranks of ``x``
    when the caller has them already (a stored run's ranks), saving a sort."""
    a, b = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if len(a) < 2:
        return None
    return pearson(ranks(a) if x_ranks is None else x_ranks, ranks(b))


def policy_stats(
    scores: Sequence[float], chars: Sequence[int], tokens: Sequence[int], cut: Sequence[bool]
) -> dict:
    """Mean and std of a policy's RM scores, lengths, answers cut at the limit, and the
    correlation of length (characters) with score."""
    s = np.asarray(scores, dtype=np.float64)
    if len(s) == 0:
        return {"n": 0}
    return {
        "n": int(len(s)),
        "mean": float(s.mean()),
        "std": float(s.std()),
        "mean_chars": float(np.mean(chars)),
        "mean_tokens": _mean_known(tokens),
        "cut_at_limit": int(np.sum(cut)),
        "pearson_length_score": pearson(chars, s),
        "spearman_length_score": spearman(chars, s),
    }


def _mean_known(values: Sequence[float | None]) -> float | None:
    """The mean of the values that are known (imported answers may carry no token
    count: None or NaN); None when none is."""
    v = np.asarray([np.nan if x is None else x for x in values], dtype=np.float64)
    known = v[~np.isnan(v)]
    return float(known.mean()) if len(known) else None


def sigmoid(x: float) -> float:
    """The logistic function of one number, without overflow for any x (the one sigmoid
    of PrefLens: ``sigmoid_array`` is the same function over arrays)."""
    return float(sigmoid_array(x))


def sigmoid_array(x: Sequence[float] | np.ndarray | float) -> np.ndarray:
    """The logistic function elementwise (scipy's ``expit``: stable for large |x|)."""
    return special.expit(np.asarray(x, dtype=np.float64))


TIES_CONVENTION = (
    "win_rate = (wins + ties/2) / n; decisive_win_rate = wins / (wins + losses); a tie is "
    "|A - B| <= tie_margin or identical answer text"
)


def compare(
    a: Sequence[float],
    b: Sequence[float],
    tie_margin: float = 0.0,
    same: Sequence[bool] | None = None,
) -> dict:
    """Policy A against policy B on the same prompts (see ``compare_diffs``)."""
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    return compare_diffs(d, tie_margin, same)


def compare_diffs(
    d: np.ndarray, tie_margin: float = 0.0, same: Sequence[bool] | None = None
) -> dict:
    """Outcomes from the differences score_A - score_B: A wins where the difference is
    above ``tie_margin``, loses where below -``tie_margin``, ties otherwise and wherever
    ``same`` says the two answers are the same text (float noise then decides nothing).
    ``win_rate`` counts a tie as half a win; ``decisive_win_rate`` leaves ties out;
    ``std_diff`` is the population std of the differences (their spread)."""
    d = np.asarray(d, dtype=np.float64)
    n = len(d)
    tie = np.abs(d) <= tie_margin
    if same is not None:
        tie |= np.asarray(same, dtype=bool)
    wins, losses = int(np.sum((d > tie_margin) & ~tie)), int(np.sum((d < -tie_margin) & ~tie))
    ties = n - wins - losses
    return {
        "n": n,
        "mean_diff": float(d.mean()) if n else None,
        "std_diff": float(d.std()) if n else None,
        "wins": wins,
        "ties": ties,
        "losses": losses,
        "win_rate": (wins + ties / 2) / n if n else None,
        "decisive_win_rate": wins / (wins + losses) if wins + losses else None,
        "tie_margin": tie_margin,
        "convention": TIES_CONVENTION,
    }
