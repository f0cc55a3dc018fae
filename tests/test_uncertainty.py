"""Uncertainty statistics against independent implementations (scipy, statsmodels,
scikit-learn) on random data, hand-worked cases, and interval coverage by simulation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.proportion import proportion_confint

from preflens.uncertainty import (
    auc,
    bootstrap_auc,
    bootstrap_mean,
    bootstrap_mean_difference,
    bootstrap_paired_difference,
    mcnemar_exact,
    proportion,
    sign_test,
    weighted_auc,
    wilson,
    win_rates,
)


def test_wilson_hand_worked_demo_numbers():
    # The demo numbers: 113/140 right after training, 59/140 before.
    after, before = proportion(113, 140), proportion(59, 140)
    assert after["value"] == pytest.approx(0.807, abs=5e-4)
    assert (round(after["ci_low"], 3), round(after["ci_high"], 3)) == (0.734, 0.864)
    assert (round(before["ci_low"], 3), round(before["ci_high"], 3)) == (0.343, 0.504)
    assert before["ci_high"] > 0.5  # not significantly below chance


@pytest.mark.parametrize("seed", range(5))
def test_wilson_matches_statsmodels(seed):
    rng = np.random.default_rng(seed)
    for _ in range(40):
        n = int(rng.integers(1, 500))
        k = int(rng.integers(0, n + 1))
        lo, hi = proportion_confint(k, n, alpha=0.05, method="wilson")
        assert wilson(k, n) == pytest.approx((lo, hi), abs=1e-12)


def test_small_n_is_wide_not_certain():
    three = proportion(3, 3)
    assert three["value"] == 1.0 and three["ci_low"] < 0.5
    assert proportion(0, 0)["value"] is None
    assert wilson(0, 0) == (0.0, 1.0)


def test_sign_test_hand_worked_and_scipy():
    assert sign_test(15, 12) == pytest.approx(0.70, abs=0.005)
    rng = np.random.default_rng(3)
    for _ in range(50):
        w, losses = (int(v) for v in rng.integers(0, 80, 2))
        if w + losses == 0:
            continue
        expected = stats.binomtest(w, w + losses, 0.5).pvalue
        assert sign_test(w, losses) == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert sign_test(0, 0) is None


def test_mcnemar_matches_statsmodels():
    rng = np.random.default_rng(4)
    for _ in range(50):
        both, b, c, neither = (int(v) for v in rng.integers(0, 60, 4))
        if b + c == 0:
            continue
        expected = mcnemar([[both, b], [c, neither]], exact=True).pvalue
        assert mcnemar_exact(b, c) == pytest.approx(expected, rel=1e-9)


def test_win_rates_counts_ties_half():
    out = win_rates(15, 3, 12)
    assert out["win_rate"]["value"] == pytest.approx(16.5 / 30)
    assert out["decisive_win_rate"]["value"] == pytest.approx(15 / 27)
    lo, hi = proportion_confint(15, 27, method="wilson")
    assert (out["decisive_win_rate"]["ci_low"], out["decisive_win_rate"]["ci_high"]) == (
        pytest.approx(lo),
        pytest.approx(hi),
    )
    assert out["sign_test_p"] == pytest.approx(stats.binomtest(15, 27).pvalue)


@pytest.mark.parametrize("seed", range(4))
def test_auc_matches_sklearn_and_mannwhitney(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 300))
    # Rounded so that ties between chosen and rejected scores occur.
    c = np.round(rng.normal(0.5, 1, n), 1)
    r = np.round(rng.normal(0, 1, n), 1)
    y = np.r_[np.ones(n), np.zeros(n)]
    assert auc(c, r) == pytest.approx(roc_auc_score(y, np.r_[c, r]), abs=1e-12)
    u = stats.mannwhitneyu(c, r, alternative="two-sided").statistic
    assert auc(c, r) == pytest.approx(u / (n * n), abs=1e-12)


def test_bootstrap_auc_weighted_replicates_match_sklearn_sample_weight():
    # Each resample's AUC comes from pair weights; sklearn's weighted AUC is the check.
    rng = np.random.default_rng(7)
    c, r = np.round(rng.normal(1, 1, 60), 1), np.round(rng.normal(0, 1, 60), 1)
    w = rng.integers(0, 4, size=(5, 60)).astype(float)
    y = np.r_[np.ones(60), np.zeros(60)]
    got = weighted_auc(c, r, w)
    for row, value in zip(w, got, strict=True):
        assert value == pytest.approx(roc_auc_score(y, np.r_[c, r], sample_weight=np.r_[row, row]))
    out = bootstrap_auc(c, r, b=1000, seed=11)
    assert out["value"] == pytest.approx(auc(c, r))
    assert out["ci_low"] < out["value"] < out["ci_high"]
    assert out["n"] == 60


def test_bootstrap_mean_is_seeded_and_close_to_t_interval():
    rng = np.random.default_rng(8)
    x = rng.normal(2.0, 3.0, 400)
    a, b = bootstrap_mean(x, seed=1), bootstrap_mean(x, seed=1)
    assert a == b  # same seed, same interval
    assert a["value"] == pytest.approx(x.mean())
    t_lo, t_hi = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert a["ci_low"] == pytest.approx(t_lo, abs=0.06)
    assert a["ci_high"] == pytest.approx(t_hi, abs=0.06)
    with pytest.raises(ValueError):
        bootstrap_mean(x, b=100)


def test_bootstrap_mean_difference_and_paired():
    rng = np.random.default_rng(9)
    a, b = rng.normal(1.0, 1, 300), rng.normal(0.5, 2, 250)
    out = bootstrap_mean_difference(a, b)
    welch = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert out["value"] == pytest.approx(a.mean() - b.mean())
    assert out["ci_low"] == pytest.approx(welch.low, abs=0.06)
    assert out["ci_high"] == pytest.approx(welch.high, abs=0.06)
    base = rng.normal(0, 2, 300)
    after = base + rng.normal(0.3, 0.5, 300)  # strongly paired
    paired = bootstrap_paired_difference(after, base)
    t = stats.ttest_rel(after, base).confidence_interval(0.95)
    assert paired["ci_low"] == pytest.approx(t.low, abs=0.02)
    assert paired["ci_high"] == pytest.approx(t.high, abs=0.02)
    # Pairing matters: the unpaired interval of the same data is far wider.
    unpaired = bootstrap_mean_difference(after, base)
    assert unpaired["ci_high"] - unpaired["ci_low"] > 3 * (paired["ci_high"] - paired["ci_low"])


@pytest.mark.slow
def test_intervals_cover_the_truth_95_percent_of_the_time():
    rng = np.random.default_rng(2026)
    runs, n, true_acc, true_diff = 1000, 200, 0.7, 0.3
    acc_hits = diff_hits = 0
    for i in range(runs):
        correct = rng.random(n) < true_acc
        p = proportion(int(correct.sum()), n)
        acc_hits += p["ci_low"] <= true_acc <= p["ci_high"]
        d = rng.normal(true_diff, 1.0, n)
        m = bootstrap_mean(d, b=1000, seed=i)
        diff_hits += m["ci_low"] <= true_diff <= m["ci_high"]
    assert 0.93 <= acc_hits / runs <= 0.97
    assert 0.93 <= diff_hits / runs <= 0.97


def test_large_n_switches_to_normal_intervals_that_match_the_bootstrap():
    rng = np.random.default_rng(12)
    n = 3000
    c = rng.normal(0.6, 1, n)
    r = 0.5 * c + rng.normal(0, 1, n)  # a pair's two scores are correlated
    boot = bootstrap_auc(c, r, b=2000, seed=3)
    normal = bootstrap_auc(c, r, max_n=1000)
    assert normal["method"] == "normal (large n)" and boot["method"].startswith("bootstrap")
    assert normal["value"] == boot["value"]
    assert normal["ci_low"] == pytest.approx(boot["ci_low"], abs=0.004)
    assert normal["ci_high"] == pytest.approx(boot["ci_high"], abs=0.004)
    x = rng.exponential(1.0, n)
    m = bootstrap_mean(x, max_n=1000)
    t = stats.ttest_1samp(x, 0).confidence_interval(0.95)
    assert (m["ci_low"], m["ci_high"]) == (
        pytest.approx(t.low, rel=1e-3),
        pytest.approx(t.high, rel=1e-3),
    )
    paired = bootstrap_paired_difference(x, x / 2, max_n=1000)
    assert paired["method"] == "paired-normal (large n)"


def test_degenerate_resampling_gives_no_interval_but_says_why():
    """One pair, or an AUC no resample can move: no zero-width interval, a note instead
    (checked against the cases by hand: one value; every chosen above every rejected)."""
    from preflens.uncertainty import TOO_SMALL, bootstrap_auc, bootstrap_mean

    one = bootstrap_mean([-0.444])
    assert one["value"] == pytest.approx(-0.444)
    assert one["ci_low"] is None and one["ci_high"] is None and one["note"] == TOO_SMALL
    perfect = bootstrap_auc([2.0, 3.0, 4.0, 5.0], [0.0, 1.0, 1.5, 1.9])
    assert perfect["value"] == 1.0 and perfect["ci_low"] is None
    assert perfect["note"] == "n too small for an interval"
    spread = bootstrap_mean([0.0, 1.0, 2.0, 3.0])
    assert spread["ci_low"] < spread["ci_high"] and "note" not in spread
