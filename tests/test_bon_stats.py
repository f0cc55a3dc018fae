"""Best-of-N statistics against independent computations: every k-subset enumerated,
Monte Carlo draws, and the KL formula against numeric integration."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import integrate

from preflens.bon import bon_curves, expected_best_of_k, kl_best_of_k, ks_for, rank_weights


def brute_force(proxy, values, k) -> float:
    """Mean over every k-subset of the value of its highest-proxy answer, a proxy tie
    broken uniformly at random (the tied answers' mean value)."""
    total = []
    for subset in itertools.combinations(range(len(proxy)), k):
        top = max(proxy[i] for i in subset)
        tied = [values[i] for i in subset if proxy[i] == top]
        total.append(sum(tied) / len(tied))
    return sum(total) / len(total)


@pytest.mark.parametrize("seed", range(6))
def test_estimator_equals_enumeration_of_all_subsets(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 9))
    # small integers: ties in the proxy score are common
    proxy = rng.integers(0, 4, size=n).astype(float)
    values = rng.normal(size=n)
    for k in range(1, n + 1):
        assert expected_best_of_k(proxy, values, k) == pytest.approx(
            brute_force(list(proxy), list(values), k), abs=1e-12
        )


def test_estimator_agrees_with_monte_carlo():
    rng = np.random.default_rng(7)
    proxy, gold = rng.normal(size=12), rng.normal(size=12)
    draws = 40_000
    for k in (1, 3, 8):
        picks = [rng.choice(12, size=k, replace=False) for _ in range(draws)]
        mc = np.array([gold[s[np.argmax(proxy[s])]] for s in picks])
        se = mc.std() / math.sqrt(draws)
        assert abs(expected_best_of_k(proxy, gold, k) - mc.mean()) < 4 * se


def test_weights_are_a_distribution_and_k1_is_the_mean_kn_the_max():
    for n in (1, 5, 16):
        for k in range(1, n + 1):
            assert rank_weights(n, k).sum() == pytest.approx(1.0)
    proxy, values = np.array([3.0, 1.0, 2.0]), np.array([10.0, 20.0, 30.0])
    assert expected_best_of_k(proxy, values, 1) == pytest.approx(20.0)
    assert expected_best_of_k(proxy, values, 3) == pytest.approx(10.0)
    with pytest.raises(ValueError):
        rank_weights(3, 4)


def test_kl_formula_against_numeric_integration():
    # best-of-k of a continuous score: density k u^(k-1) on the score's quantile u
    for k in (1, 2, 4, 16, 64):
        kl, _ = integrate.quad(lambda u, k=k: k * u ** (k - 1) * math.log(k * u ** (k - 1)), 0, 1)
        assert kl_best_of_k(k) == pytest.approx(kl, abs=1e-7)
    assert kl_best_of_k(1) == 0.0


def test_curves_ks_peak_and_bands():
    assert ks_for(16) == [1, 2, 4, 8, 16] and ks_for(12) == [1, 2, 4, 8, 12] and ks_for(1) == [1]
    rng = np.random.default_rng(3)
    proxy = rng.normal(size=(30, 8))
    # gold rises with the proxy up to a point, then falls (over-optimisation)
    gold = proxy - 0.6 * proxy**2
    out = bon_curves(proxy, gold, np.abs(proxy), b=1000)
    means = [c["value"] for c in out["curves"]["proxy"]]
    assert means == sorted(means)  # the proxy pick only improves with k
    gold_means = [c["value"] for c in out["curves"]["gold"]]
    assert out["gold_peak"]["k"] == out["ks"][int(np.argmax(gold_means))]
    per_prompt = [expected_best_of_k(p, g, 4) for p, g in zip(proxy, gold, strict=True)]
    assert gold_means[2] == pytest.approx(np.mean(per_prompt))
    for c in out["curves"]["gold"]:
        assert c["ci_low"] < c["value"] < c["ci_high"]
    assert bon_curves(proxy)["gold_peak"] is None
