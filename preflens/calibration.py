"""Calibration of a reward model read as a Bradley-Terry model, in pure numpy/scipy.

The RM's probability that the chosen response is preferred is P = sigmoid(gap), gap =
score_chosen - score_rejected. Every label says "chosen is preferred", so a reliability
diagram of P against that label alone would have one observed share (1.0). Each pair is
therefore counted twice: as (sigmoid(gap), outcome 1) and as (sigmoid(-gap), outcome 0),
i.e. both orderings of the pair. The diagram then spans [0, 1] and is symmetric; Brier
score and log-loss are unchanged by the mirroring (both halves give the same loss).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from preflens.stats import sigmoid_array as sigmoid

N_BINS = 10
FOLDS = 2
# Temperatures searched (log scale): a worse-than-chance RM is pushed to the top end,
# which predicts 0.5 everywhere.
T_MIN, T_MAX = 1e-3, 1e4


def mirrored(gap: Any) -> tuple[np.ndarray, np.ndarray]:
    """Predicted probabilities and outcomes of both orderings of every pair."""
    g = np.asarray(gap, dtype=np.float64)
    p = sigmoid(g)
    return np.concatenate([p, 1.0 - p]), np.concatenate([np.ones(len(g)), np.zeros(len(g))])


def reliability(p: Any, y: Any, n_bins: int = N_BINS) -> list[dict[str, Any]]:
    """Equal-width bins of predicted probability ([0, 0.1), ..., [0.9, 1.0]): per bin the
    mean predicted probability, the observed share of outcome 1 and the count."""
    p, y = np.asarray(p, dtype=np.float64), np.asarray(y, dtype=np.float64)
    idx = np.clip((p * n_bins).astype(np.int64), 0, n_bins - 1)
    n = np.bincount(idx, minlength=n_bins)
    sp = np.bincount(idx, weights=p, minlength=n_bins)
    sy = np.bincount(idx, weights=y, minlength=n_bins)
    out = []
    for i in range(n_bins):
        out.append(
            {
                "lo": i / n_bins,
                "hi": (i + 1) / n_bins,
                "n": int(n[i]),
                "mean_predicted": float(sp[i] / n[i]) if n[i] else None,
                "observed": float(sy[i] / n[i]) if n[i] else None,
            }
        )
    return out


def ece(p: Any, y: Any, n_bins: int = N_BINS) -> float | None:
    """Expected calibration error: the count-weighted mean over bins of
    |mean predicted - observed share|."""
    bins = reliability(p, y, n_bins)
    total = sum(b["n"] for b in bins)
    if total == 0:
        return None
    return float(
        sum(b["n"] * abs(b["mean_predicted"] - b["observed"]) for b in bins if b["n"]) / total
    )


def nll(gap: Any, temperature: float = 1.0) -> float | None:
    """Bradley-Terry negative log-likelihood per pair: mean of -log sigmoid(gap / T),
    computed as log(1 + exp(-gap / T)) without overflow."""
    g = np.asarray(gap, dtype=np.float64)
    if len(g) == 0:
        return None
    return float(np.logaddexp(0.0, -g / temperature).mean())


def brier(gap: Any) -> float | None:
    """Brier score of P(chosen) = sigmoid(gap) against "chosen is preferred"."""
    g = np.asarray(gap, dtype=np.float64)
    if len(g) == 0:
        return None
    return float(((1.0 - sigmoid(g)) ** 2).mean())


def fit_temperature(gap: Any, iterations: int = 60) -> float:
    """The temperature T > 0 minimising the Bradley-Terry NLL of sigmoid(gap / T), within
    [T_MIN, T_MAX]. The NLL is convex in beta = 1/T, so a safeguarded Newton search on
    beta (bisection whenever a step leaves the bracket) needs a few passes over the data,
    not the dozens a derivative-free search would."""
    g = np.asarray(gap, dtype=np.float64)
    if len(g) == 0 or not np.any(g):
        return 1.0
    lo, hi = 1.0 / T_MAX, 1.0 / T_MIN

    def slope_curve(beta: float) -> tuple[float, float]:
        q = sigmoid(-beta * g)  # 1 - P(label) for each pair
        return float(-(g * q).mean()), float((g * g * q * (1 - q)).mean())

    if slope_curve(lo)[0] >= 0:  # no better than chance: the flattest allowed model
        return T_MAX
    if slope_curve(hi)[0] <= 0:  # separable: the sharpest allowed model
        return T_MIN
    beta = 1.0
    for _ in range(iterations):
        grad, curv = slope_curve(beta)
        # Converged where the slope vanishes or the Newton step is below float resolution;
        # tested before the bracket moves, so beta is never replaced by a bisection then.
        step = beta - grad / curv if curv > 0 else np.inf
        if abs(grad) < 1e-12 or step == beta:
            break
        if grad > 0:
            hi = beta
        else:
            lo = beta
        beta = step if lo < step < hi else (lo + hi) / 2
        if hi - lo < 1e-12 * hi:
            break
    return float(1.0 / beta)


def cross_fitted_gaps(
    gap: Any, folds: int = FOLDS, seed: int = 0
) -> tuple[np.ndarray, list[float]]:
    """gap / T_k where T_k is fitted on the *other* folds, so no pair is judged by a
    temperature fitted on itself. Folds come from a seeded permutation."""
    g = np.asarray(gap, dtype=np.float64)
    fold = np.empty(len(g), dtype=np.int64)
    fold[np.random.default_rng(seed).permutation(len(g))] = np.arange(len(g)) % folds
    z = np.empty(len(g))
    temps = []
    for k in range(folds):
        t = fit_temperature(g[fold != k])
        temps.append(t)
        z[fold == k] = g[fold == k] / t
    return z, temps


def calibration(gap: Any, n_bins: int = N_BINS, folds: int = FOLDS) -> dict[str, Any]:
    """Reliability bins, ECE, Brier, NLL of sigmoid(gap); the temperature fitted on all
    pairs (for display) and the ECE after temperature scaling, where each pair's
    probability uses the temperature fitted on the other folds (cross-fitted).
    ``temperature_fit`` says "ok", or why there are no after-temperature numbers (a fit
    that ended at a bound is named, e.g. "fit failed: ranks pairs backwards ...", and
    ``temperature`` and the after-temperature numbers are then None)."""
    g = np.asarray(gap, dtype=np.float64)
    p, y = mirrored(g)
    out: dict[str, Any] = {
        "n": int(len(g)),
        "bins": reliability(p, y, n_bins),
        "ece": ece(p, y, n_bins),
        "brier": brier(g),
        "nll": nll(g),
        "temperature": None,
        "temperature_fit": None,
        "fold_temperatures": [],
        "ece_after_temperature": None,
        "nll_after_temperature": None,
        "label": (
            "P(chosen) = sigmoid(gap); each pair counted in both orders (sigmoid(gap), 1) and "
            f"(sigmoid(-gap), 0); {n_bins} equal-width bins; ECE = count-weighted "
            f"|predicted - observed|; after-temperature numbers use {folds}-fold "
            "cross-fitted temperatures"
        ),
    }
    if len(g) >= 2 * folds:
        z, temps = cross_fitted_gaps(g, folds)
        temperature = fit_temperature(g)
        failed = fit_failure(g, [temperature, *temps])
        out["fold_temperatures"] = temps
        if failed:
            # A temperature at its bound is no fit: sigmoid(gap / 1e4) predicts 0.5 for
            # every pair, and its lower ECE would read as an improvement.
            out["temperature_fit"] = f"fit failed: {failed}"
            return out
        pm, _ = mirrored(z)
        out["temperature"] = temperature
        out["temperature_fit"] = "ok"
        out["ece_after_temperature"] = ece(pm, y, n_bins)
        out["nll_after_temperature"] = nll(z)
        out["bins_after_temperature"] = reliability(pm, y, n_bins)
    else:
        out["temperature_fit"] = f"not fitted: fewer than {2 * folds} pairs"
    return out


def fit_failure(gap: Any, temperatures: list[float]) -> str | None:
    """Why a temperature fit degenerated (a fit on all pairs or on a fold ended at a
    bound of [T_MIN, T_MAX]), or None when every fit is inside the bounds."""
    if not any(t in (T_MIN, T_MAX) for t in temperatures):
        return None
    g = np.asarray(gap, dtype=np.float64)
    if T_MAX in temperatures:
        if (g > 0).mean() < 0.5 or g.mean() < 0:
            return "ranks pairs backwards (the best temperature is the flattest allowed)"
        return "no better than chance (the best temperature is the flattest allowed)"
    return "pairs perfectly separated (no finite temperature; the sharpest allowed)"
