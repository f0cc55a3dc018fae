"""Is the reward model (or a policy's win) better than response length? Pure numpy/scipy.

For a score run, pairs are split by which response is longer (response-only length, in
the unit the caller passes: characters or tokens). A gap of exactly 0 counts as wrong,
as everywhere in PrefLens. The baselines "the longer response wins" and "the shorter
response wins" are scored on the same pairs; pairs of equal length count as half right
for both (a coin flip), so the two baselines add up to 1.

For a policy comparison, the length-controlled win rate follows AlpacaEval's
length-controlled idea: a logistic model P(A beats B) = sigmoid(b0 + b1 * x) with
x = tanh(length difference / its standard deviation), fitted by Newton's method (ties
enter as outcome 0.5), and read at zero length difference: sigmoid(b0).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from preflens.stats import sigmoid_array as sigmoid
from preflens.stats import spearman
from preflens.uncertainty import (
    DEFAULT_B,
    DEFAULT_SEED,
    Z95,
    bootstrap_stat,
    default_max_n,
    interval,
    proportion,
)

N_LENGTH_BINS = 8
NEWTON_STEPS = 60
MAX_STEP = 5.0  # caps a Newton step, so perfectly separated data drift instead of blowing up
LC_LABEL = (
    "P(A beats B) = sigmoid(b0 + b1 * tanh(len diff / std)); LC win rate = "
    "sigmoid(b0), the win rate at equal length; ties count as 0.5"
)
NOT_ESTIMABLE = (
    "not estimable: the logistic fit has no maximum (the length differences do not "
    "separate the length effect from the intercept, or length alone splits wins from losses)"
)


def _stratum(correct: np.ndarray, mask: np.ndarray) -> dict[str, Any]:
    return proportion(int(correct[mask].sum()), int(mask.sum()))


def length_bins(
    correct: np.ndarray, diff: np.ndarray, n_bins: int = N_LENGTH_BINS
) -> list[dict[str, Any]]:
    """Accuracy by bins of the length difference (chosen - rejected): bin edges are
    quantiles of the difference (merged where equal), each bin with its observed range,
    mean difference, n and accuracy with a Wilson interval."""
    if len(diff) == 0:
        return []
    edges = np.unique(np.quantile(diff, np.linspace(0, 1, n_bins + 1)))
    idx = np.searchsorted(edges[1:-1], diff, side="right")
    out = []
    for i in np.unique(idx):
        m = idx == i
        out.append(
            {
                "lo": float(diff[m].min()),
                "hi": float(diff[m].max()),
                "mean_length_diff": float(diff[m].mean()),
                "n": int(m.sum()),
                "accuracy": _stratum(correct, m),
            }
        )
    return out


def length_balanced(
    correct: np.ndarray, longer: np.ndarray, shorter: np.ndarray, b: int, seed: int
) -> dict[str, Any]:
    """Mean of the accuracies when chosen is longer and when it is shorter, with a
    stratified bootstrap interval (each stratum resampled on its own, which for right /
    wrong outcomes is a binomial draw per stratum)."""
    n1, n2 = int(longer.sum()), int(shorter.sum())
    if n1 == 0 or n2 == 0:
        return interval(None, None, None, n1 + n2, "stratified-bootstrap-percentile")
    p1, p2 = correct[longer].mean(), correct[shorter].mean()
    rng = np.random.default_rng(seed)
    reps = (rng.binomial(n1, p1, b) / n1 + rng.binomial(n2, p2, b) / n2) / 2
    lo, hi = np.percentile(reps, [2.5, 97.5])
    return interval((p1 + p2) / 2, lo, hi, n1 + n2, "stratified-bootstrap-percentile")


def length_baselines(len_chosen: Any, len_rejected: Any) -> tuple[dict, dict]:
    """The baselines "the longer response wins" and "the shorter response wins" on these
    pairs, with Wilson 95% intervals (pairs of equal length count half right for both)."""
    diff = np.asarray(len_chosen, dtype=np.float64) - np.asarray(len_rejected, dtype=np.float64)
    n, half = len(diff), (diff == 0).sum() / 2
    longer_wins = proportion(int((diff > 0).sum()) + half, n)
    shorter_wins = proportion(int((diff < 0).sum()) + half, n)
    for base in (longer_wins, shorter_wins):
        base["method"] = "wilson (equal lengths count half)"
    return longer_wins, shorter_wins


def score_length_control(
    gap: Any,
    len_chosen: Any,
    len_rejected: Any,
    unit: str = "characters",
    b: int = DEFAULT_B,
    seed: int = DEFAULT_SEED,
    gap_ranks: np.ndarray | None = None,
) -> dict[str, Any]:
    """Length control of one score run (see the module docstring for conventions).
    ``gap_ranks``: ``stats.ranks(gap)`` when the caller has it (one sort saved per call)."""
    g = np.asarray(gap, dtype=np.float64)
    diff = np.asarray(len_chosen, dtype=np.float64) - np.asarray(len_rejected, dtype=np.float64)
    correct = g > 0
    longer, shorter, equal = diff > 0, diff < 0, diff == 0
    n = len(g)
    longer_wins, shorter_wins = length_baselines(len_chosen, len_rejected)
    return {
        "unit": unit,
        "n": n,
        "chosen_longer": _stratum(correct, longer),
        "chosen_shorter": _stratum(correct, shorter),
        "equal": _stratum(correct, equal),
        "longer_wins_baseline": longer_wins,
        "shorter_wins_baseline": shorter_wins,
        "length_balanced_accuracy": length_balanced(correct, longer, shorter, b, seed),
        "spearman_gap_length_diff": (spearman(g, diff, x_ranks=gap_ranks)),
        "bins": length_bins(correct, diff),
        "label": (
            f"length = response-only {unit}; length diff = chosen - rejected; a gap of 0 "
            "counts as wrong; baselines count equal lengths as half right"
        ),
    }


def logistic_fit(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted logistic regression y ~ sigmoid(b0 + b1 x) for many weight rows at once
    (``w``: rows x items; y may be fractional). Returns (coefficients rows x 2,
    converged per row)."""
    w = np.atleast_2d(w)
    beta = np.zeros((w.shape[0], 2))
    converged = np.zeros(w.shape[0], dtype=bool)
    for _ in range(NEWTON_STEPS):
        p = sigmoid(beta[:, :1] + beta[:, 1:] * x)
        r = w * (y - p)
        v = w * p * (1 - p)
        g0, g1 = r.sum(1), (r * x).sum(1)
        h00, h01, h11 = v.sum(1) + 1e-12, (v * x).sum(1), (v * x * x).sum(1) + 1e-12
        det = h00 * h11 - h01 * h01
        step = np.stack([(h11 * g0 - h01 * g1) / det, (h00 * g1 - h01 * g0) / det], axis=1)
        step = np.clip(np.nan_to_num(step), -MAX_STEP, MAX_STEP)
        beta += step
        converged = np.abs(step).max(axis=1) < 1e-9
        if converged.all():
            break
    return beta, converged


def lc_win_rate(
    score_diff: Any,
    length_diff: Any,
    tie_margin: float = 0.0,
    b: int = DEFAULT_B,
    seed: int = DEFAULT_SEED,
) -> dict[str, Any]:
    """Length-controlled win rate of A over B (score_diff = score_A - score_B, length_diff
    = len_A - len_B per prompt) with a bootstrap interval over prompts, next to the raw
    win rate (W + T/2) / n and the fitted length coefficient."""
    d = np.asarray(score_diff, dtype=np.float64)
    ld = np.asarray(length_diff, dtype=np.float64)
    n = len(d)
    method = "logistic on tanh(length diff / std), read at 0; bootstrap-percentile"
    if n == 0:
        return {"lc_win_rate": interval(None, None, None, 0, method), "raw_win_rate": None}
    y = np.where(d > tie_margin, 1.0, np.where(d < -tie_margin, 0.0, 0.5))
    sd = ld.std()
    x = np.tanh(ld / sd) if sd > 0 else np.zeros(n)
    beta, converged = logistic_fit(x, y, np.ones((1, n)))
    # No maximum to read when b0 and b1 run off together (length separates wins from
    # losses), or when every tanh is the same c != 0 and only b0 + b1 * c is determined:
    # sigmoid(b0) would print as 1.000, 0.000 or an arbitrary split.
    estimable = bool(converged[0]) and not (x.std() < 1e-6 and abs(x.mean()) > 1e-6)
    b0, b1 = (float(beta[0, 0]), float(beta[0, 1])) if estimable else (None, None)
    if not estimable:
        lc = interval(None, None, None, n, method)
        lc["note"] = NOT_ESTIMABLE
    elif n > default_max_n(b):
        # Large n: a Wald interval for b0 from the fitted information matrix, mapped
        # through the sigmoid (the bootstrap would refit the model B times).
        p = sigmoid(b0 + b1 * x)
        v = p * (1 - p)
        info = np.array([[v.sum(), (v * x).sum()], [(v * x).sum(), (v * x * x).sum()]])
        se = float(np.sqrt(np.linalg.pinv(info)[0, 0]))
        lo, hi = sigmoid(np.array([b0 - Z95 * se, b0 + Z95 * se]))
        method = "logistic on tanh(length diff / std), read at 0; Wald (large n)"
        lc = interval(sigmoid(b0), lo, hi, n, method)
    else:

        def stat(w: np.ndarray) -> np.ndarray:
            return sigmoid(logistic_fit(x, y, w)[0][:, 0])

        lo, hi = np.percentile(bootstrap_stat(n, stat, b, seed), [2.5, 97.5])
        lc = interval(sigmoid(b0), lo, hi, n, method)
    return {
        "lc_win_rate": lc,
        "raw_win_rate": float(y.mean()),
        "length_coefficient": b1,
        "intercept": b0,
        "converged": estimable,
        "length_diff_std": float(sd),
        "label": LC_LABEL,
    }
