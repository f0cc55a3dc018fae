"""Best-of-N statistics in pure numpy: the unbiased best-of-k estimator, its curves with
bootstrap bands over prompts, and the analytic KL of best-of-k sampling.

For one prompt with N sampled answers, best-of-k draws k of them without replacement,
keeps the one the proxy RM scores highest and reports some value of it (the proxy score,
a gold RM's score, its length). Averaging over every k-subset instead of drawing one
uses all N samples: sort the answers by proxy score ascending; the answer of rank i
(1-based) is the best of a uniformly random k-subset with probability
C(i-1, k-1) / C(N, k) (the subset holds it and k-1 of the i-1 answers below it). Ties in
the proxy score are broken uniformly at random: tied answers share their group's weight
equally, i.e. each takes the mean value of its tie group. The KL divergence of the
best-of-k distribution from the sampling distribution is log k - (k-1)/k nats (exact for
a continuous proxy score; an upper bound when ties are possible).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from preflens.uncertainty import DEFAULT_B, DEFAULT_SEED, bootstrap_mean

CONVENTIONS = {
    "estimator": "mean over all k-subsets of the N samples of the value of the subset's "
    "highest-proxy answer: weight C(i-1, k-1) / C(N, k) for proxy rank i",
    "ties": "answers tied on the proxy score are picked uniformly at random among the "
    "tied (each tie group takes its mean value)",
    "interval": "percentile bootstrap 95% over prompts (the same resamples for every k)",
    "kl": "analytic KL(best-of-k || sampling) = log k - (k-1)/k nats",
}


def ks_for(n: int) -> list[int]:
    """k = 1, 2, 4, ... up to ``n``, with ``n`` itself always last."""
    if n < 1:
        raise ValueError(f"best-of-N needs N >= 1, got {n}")
    ks = [1 << j for j in range(n.bit_length()) if (1 << j) <= n]
    return ks if ks[-1] == n else [*ks, n]


def rank_weights(n: int, k: int) -> np.ndarray:
    """P(the answer of ascending proxy rank i is the best of a random k-subset), i = 1..n.
    Exact integer binomials, so the weights sum to 1 up to one rounding."""
    if not 1 <= k <= n:
        raise ValueError(f"k must be in 1..{n}, got {k}")
    total = math.comb(n, k)
    return np.array([math.comb(i - 1, k - 1) / total for i in range(1, n + 1)])


def _tie_averaged(proxy: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``values`` sorted by ascending ``proxy``, each replaced by its proxy-tie group's mean."""
    order = np.argsort(proxy, kind="stable")
    p, v = proxy[order], values[order].astype(np.float64)
    _, start, counts = np.unique(p, return_index=True, return_counts=True)
    group_sum = np.add.reduceat(v, start)
    return p, np.repeat(group_sum / counts, counts)


def expected_best_of_k(proxy: Any, values: Any, k: int) -> float:
    """The expected ``values`` of the best-of-k answer (selected by ``proxy``) of one
    prompt's N samples, over all k-subsets (see the module docstring)."""
    proxy, values = np.asarray(proxy, np.float64), np.asarray(values, np.float64)
    _, v = _tie_averaged(proxy, values)
    return float(rank_weights(len(v), k) @ v)


def kl_best_of_k(k: int) -> float:
    """Analytic KL(best-of-k || base) in nats: log k - (k-1)/k."""
    return math.log(k) - (k - 1) / k


def per_prompt_curves(proxy: Any, values: Any, ks: list[int]) -> np.ndarray:
    """prompts x len(ks): each prompt's expected best-of-k value (rows of ``proxy`` and
    ``values`` are prompts, columns its N samples)."""
    proxy, values = np.asarray(proxy, np.float64), np.asarray(values, np.float64)
    n = proxy.shape[1]
    w = np.stack([rank_weights(n, k) for k in ks], axis=1)  # N x len(ks)
    rows = [_tie_averaged(p, v)[1] for p, v in zip(proxy, values, strict=True)]
    return np.asarray(rows).reshape(len(rows), n) @ w


def bon_curves(
    proxy: Any,
    gold: Any | None = None,
    length: Any | None = None,
    b: int = DEFAULT_B,
    seed: int = DEFAULT_SEED,
) -> dict[str, Any]:
    """Best-of-k curves for k = 1, 2, 4, ..., N from prompts x N matrices: expected proxy
    score, gold score (when given) and length (when given) of the proxy's pick, each a
    mean over prompts with a bootstrap 95% interval; the analytic KL per k; and the k at
    which the mean gold score peaks."""
    proxy = np.asarray(proxy, np.float64)
    if proxy.ndim != 2 or proxy.shape[1] < 1:
        raise ValueError("proxy scores must be a prompts x N matrix")
    ks = ks_for(proxy.shape[1])
    curves: dict[str, list[dict[str, Any]]] = {}
    for name, values in (("proxy", proxy), ("gold", gold), ("length", length)):
        if values is None:
            continue
        per = per_prompt_curves(proxy, values, ks)
        curves[name] = [bootstrap_mean(per[:, j], b, seed) for j in range(len(ks))]
    peak = None
    if "gold" in curves:
        means = [c["value"] for c in curves["gold"]]
        j = int(np.argmax(means))  # the first maximum: the smallest k reaching the peak
        peak = {"k": ks[j], "gold": means[j], "kl": kl_best_of_k(ks[j])}
    return {
        "prompts": int(proxy.shape[0]),
        "n": int(proxy.shape[1]),
        "ks": ks,
        "kl": [kl_best_of_k(k) for k in ks],
        "curves": curves,
        "gold_peak": peak,
        "conventions": CONVENTIONS,
    }
