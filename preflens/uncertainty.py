"""Uncertainty of headline numbers, in pure numpy/scipy (no torch, no database).

Every function returns plain JSON-able values. An *interval* is a dict
``{value, ci_low, ci_high, n, method}``: a 95% confidence interval for ``value``
computed by ``method``. A bootstrap or normal interval that would have zero width (one
item, or every resample equal) has no bounds and ``note: "n too small for an interval"``.
Conventions used throughout:

- proportions (accuracy, win rates) get a Wilson score interval: it never leaves [0, 1]
  and stays wide at small n (n = 3 right out of 3 is [0.44, 1.00], not "100%");
- means, differences of means and AUC get a percentile bootstrap: ``B`` resamples
  (default 2000, at least 1000) drawn from a seeded generator, so the same data give the
  same interval; resampling is vectorised (a matrix of resample counts per chunk);
- p-values are exact (binomial), two-sided.

Resampling costs B x n random draws. Above ``max_n`` items (default: as many as keep
B x n within ``BOOTSTRAP_MAX_CELLS``, i.e. 5,000 at B = 2000) it would take seconds, and
at that size the bootstrap distribution of a mean or an AUC is normal to within the
interval's printed precision; means and AUC then get a normal interval from their
standard error (method ``normal (large n)``), which costs one pass over the data.
Callers can pass a larger ``max_n`` to force the bootstrap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from scipy import stats

Z95 = 1.959963984540054  # the 97.5% quantile of the standard normal
DEFAULT_B = 2000
DEFAULT_SEED = 0
# Cap on the resample-count matrix held at once (B_chunk x n); bounds memory at 1M pairs.
CHUNK_CELLS = 4_000_000
BOOTSTRAP_MAX_CELLS = 10_000_000


def default_max_n(b: int) -> int:
    """The largest n bootstrapped with ``b`` resamples by default."""
    return max(BOOTSTRAP_MAX_CELLS // max(b, 1), 1)


def interval(
    value: float | None, low: float | None, high: float | None, n: int, method: str
) -> dict[str, Any]:
    """The interval dict every diagnostic returns."""

    def f(x: float | None) -> float | None:
        return None if x is None or not np.isfinite(x) else float(x)

    return {"value": f(value), "ci_low": f(low), "ci_high": f(high), "n": int(n), "method": method}


TOO_SMALL = "n too small for an interval"


def spread_interval(
    value: float | None, low: float, high: float, n: int, method: str
) -> dict[str, Any]:
    """A resampling or normal interval, or none: with fewer than 2 items, or when every
    resample gave the same value (one pair; an AUC of 1 that no resample moves), a
    zero-width "interval" would claim certainty the data cannot give, so the bounds are
    None and ``note`` says why."""
    if n < 2 or not high > low:
        return interval(value, None, None, n, method) | {"note": TOO_SMALL}
    return interval(value, low, high, n, method)


def wilson(k: float, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for ``k`` successes in ``n`` trials (``k`` may be fractional,
    e.g. wins plus half the ties). ``n = 0`` gives the uninformative (0, 1)."""
    if n <= 0:
        return 0.0, 1.0
    p = k / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, float(centre - half)), min(1.0, float(centre + half))


def proportion(k: float, n: int) -> dict[str, Any]:
    """A share ``k / n`` with its Wilson 95% interval (value None when n = 0)."""
    low, high = wilson(k, n)
    return interval(k / n if n else None, low, high, n, "wilson")


def _resample_counts(n: int, b: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Bootstrap resamples of ``n`` items as count matrices (rows: resamples, columns: how
    often each item was drawn), ``b`` rows in all, yielded in memory-bounded chunks."""
    rows = max(1, CHUNK_CELLS // max(n, 1))
    done = 0
    while done < b:
        m = min(rows, b - done)
        idx = rng.integers(0, n, size=(m, n))
        flat = idx + (np.arange(m, dtype=np.int64) * n)[:, None]
        yield np.bincount(flat.ravel(), minlength=m * n).reshape(m, n).astype(np.float64)
        done += m


def _percentile(replicates: np.ndarray) -> tuple[float, float]:
    lo, hi = np.percentile(replicates, [2.5, 97.5])
    return float(lo), float(hi)


def _check_b(b: int) -> None:
    if b < 1000:
        raise ValueError(f"bootstrap needs B >= 1000 resamples for a 95% interval, got {b}")


def bootstrap_stat(
    n: int,
    statistic: Callable[[np.ndarray], np.ndarray],
    b: int = DEFAULT_B,
    seed: int = DEFAULT_SEED,
) -> np.ndarray:
    """``b`` bootstrap replicates of a statistic of ``n`` items. ``statistic`` takes a
    count matrix (resamples x items) and returns one value per row."""
    _check_b(b)
    rng = np.random.default_rng(seed)
    return np.concatenate([statistic(w) for w in _resample_counts(n, b, rng)])


def normal_interval(value: float, se: float, n: int) -> dict[str, Any]:
    """value +- 1.96 standard errors (the large-n replacement of the bootstrap)."""
    return spread_interval(value, value - Z95 * se, value + Z95 * se, n, "normal (large n)")


def bootstrap_mean(
    x: Any, b: int = DEFAULT_B, seed: int = DEFAULT_SEED, max_n: int | None = None
) -> dict[str, Any]:
    """Mean of ``x`` with a percentile-bootstrap 95% interval (resampling items); above
    ``max_n`` items, the normal interval with standard error std / sqrt(n)."""
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    if n == 0:
        return interval(None, None, None, 0, "bootstrap-percentile")
    if n > (max_n or default_max_n(b)):
        return normal_interval(float(x.mean()), float(x.std(ddof=1) / np.sqrt(n)), n)
    reps = bootstrap_stat(n, lambda w: w @ x / n, b, seed)
    return spread_interval(x.mean(), *_percentile(reps), n, "bootstrap-percentile")


def bootstrap_paired_difference(
    a: Any,
    b_values: Any,
    b: int = DEFAULT_B,
    seed: int = DEFAULT_SEED,
    max_n: int | None = None,
) -> dict[str, Any]:
    """Mean of ``a - b_values`` over the same items (paired), with a bootstrap interval that
    resamples items, so both members of a pair move together."""
    d = np.asarray(a, dtype=np.float64) - np.asarray(b_values, dtype=np.float64)
    out = bootstrap_mean(d, b, seed, max_n)
    out["method"] = "paired-" + out["method"]
    return out


def bootstrap_mean_difference(
    a: Any, b_values: Any, b: int = DEFAULT_B, seed: int = DEFAULT_SEED
) -> dict[str, Any]:
    """mean(a) - mean(b_values) for two independent samples, each resampled on its own."""
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b_values, dtype=np.float64)
    if len(x) == 0 or len(y) == 0:
        return interval(None, None, None, len(x) + len(y), "bootstrap-percentile")
    _check_b(b)
    rng = np.random.default_rng(seed)
    mx = np.concatenate([w @ x / len(x) for w in _resample_counts(len(x), b, rng)])
    my = np.concatenate([w @ y / len(y) for w in _resample_counts(len(y), b, rng)])
    value = x.mean() - y.mean()
    lo, hi = _percentile(mx - my)
    n = min(len(x), len(y))  # an interval needs two items on each side
    out = spread_interval(value, lo, hi, n, "bootstrap-percentile")
    return out | {"n": len(x) + len(y)}


def auc(chosen: Any, rejected: Any) -> float | None:
    """Mann-Whitney AUC: P(a chosen score > a rejected score) + P(equal) / 2, over all
    (chosen, rejected) combinations, not only the pairs as matched."""
    c, r = np.asarray(chosen, dtype=np.float64), np.asarray(rejected, dtype=np.float64)
    if len(c) == 0 or len(r) == 0:
        return None
    # Sorted needles: searchsorted then walks the haystack in order (cache-friendly; several
    # times faster at a million scores than looking up values in random order).
    r_sorted, c_sorted = np.sort(r), np.sort(c)
    less = np.searchsorted(r_sorted, c_sorted, side="left")
    leq = np.searchsorted(r_sorted, c_sorted, side="right")
    return float((less + 0.5 * (leq - less)).sum() / (len(c) * len(r)))


def weighted_auc(chosen: Any, rejected: Any, w: np.ndarray) -> np.ndarray:
    """AUC of each row of pair weights ``w`` (rows x pairs; a pair's weight counts for both
    its chosen and its rejected score), from weighted cumulative counts over the
    once-sorted rejected scores, so no resample is re-sorted."""
    c, r = np.asarray(chosen, dtype=np.float64), np.asarray(rejected, dtype=np.float64)
    w = np.atleast_2d(np.asarray(w, dtype=np.float64))
    order = np.argsort(r, kind="mergesort")
    r_sorted = r[order]
    less = np.searchsorted(r_sorted, c, side="left")
    leq = np.searchsorted(r_sorted, c, side="right")
    cum = np.zeros((w.shape[0], len(r) + 1))
    np.cumsum(w[:, order], axis=1, out=cum[:, 1:])
    below = cum[:, less] + 0.5 * (cum[:, leq] - cum[:, less])
    total = w.sum(axis=1)
    return (w * below).sum(axis=1) / (total * total)


def auc_standard_error(chosen: Any, rejected: Any) -> float:
    """Large-sample standard error of the paired AUC (DeLong's placement values, with
    the covariance of a pair's two scores): the AUC is a U-statistic over pairs whose
    first-order projection is (P(c_i > R) + P(C > r_i)) / 2 per pair i."""
    c, r = np.asarray(chosen, dtype=np.float64), np.asarray(rejected, dtype=np.float64)
    n = len(c)
    c_order, r_order = np.argsort(c), np.argsort(r)
    cs, rs = c[c_order], r[r_order]
    # Placements: share of rejected scores below c_i, share of chosen scores above r_i,
    # looked up with sorted needles and put back in pair order.
    v10, v01 = np.empty(n), np.empty(n)
    v10[c_order] = (np.searchsorted(rs, cs, "left") + np.searchsorted(rs, cs, "right")) / (2 * n)
    v01[r_order] = 1 - (np.searchsorted(cs, rs, "left") + np.searchsorted(cs, rs, "right")) / (
        2 * n
    )
    return float(np.sqrt((v10 + v01).var(ddof=1) / n))


def bootstrap_auc(
    chosen: Any,
    rejected: Any,
    b: int = DEFAULT_B,
    seed: int = DEFAULT_SEED,
    max_n: int | None = None,
) -> dict[str, Any]:
    """AUC of chosen vs rejected scores with a bootstrap interval resampling *pairs*
    (a pair's two scores stay together); above ``max_n`` pairs, the normal interval with
    ``auc_standard_error``."""
    c, r = np.asarray(chosen, dtype=np.float64), np.asarray(rejected, dtype=np.float64)
    n = len(c)
    if n == 0:
        return interval(None, None, None, 0, "bootstrap-percentile")
    if n > (max_n or default_max_n(b)):
        return normal_interval(auc(c, r), auc_standard_error(c, r), n)
    reps = bootstrap_stat(n, lambda w: weighted_auc(c, r, w), b, seed)
    return spread_interval(
        auc(c, r), *_percentile(reps), n, "bootstrap-percentile (pairs resampled)"
    )


def sign_test(wins: int, losses: int) -> float | None:
    """Exact two-sided sign test of wins against losses (ties left out): the chance of a
    split at least this uneven if wins and losses were equally likely. None if no
    decisive comparison."""
    n = wins + losses
    if n == 0:
        return None
    return float(min(1.0, 2 * stats.binom.cdf(min(wins, losses), n, 0.5)))


def mcnemar_exact(wrong_to_right: int, right_to_wrong: int) -> float | None:
    """Exact McNemar p-value for paired right/wrong outcomes: a sign test on the
    discordant pairs only (pairs both runs got right, or both wrong, carry no
    information about which run is better)."""
    return sign_test(wrong_to_right, right_to_wrong)


def win_rates(wins: int, ties: int, losses: int) -> dict[str, Any]:
    """``win_rate`` = (W + T/2) / n and ``decisive_win_rate`` = W / (W + L), each with a
    Wilson 95% interval (for the first, ties count as half a win; Wilson's binomial
    variance is then slightly conservative), and the sign-test p-value."""
    n = wins + ties + losses
    decisive = wins + losses
    win_rate = proportion(wins + ties / 2, n)
    win_rate["method"] = "wilson (ties count half)"
    return {
        "wins": int(wins),
        "ties": int(ties),
        "losses": int(losses),
        "win_rate": win_rate,
        "decisive_win_rate": proportion(wins, decisive),
        "sign_test_p": sign_test(wins, losses),
    }
