"""Length control against statsmodels / scipy on random data, and hand-worked cases."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from preflens.length_control import lc_win_rate, score_length_control


def test_hand_worked_strata_and_baselines():
    # 6 pairs: chosen longer in 3 (2 right), shorter in 2 (0 right), equal in 1 (right).
    gap = np.array([1.0, 2.0, -1.0, -0.5, 0.0, 3.0])
    len_c = np.array([10, 12, 30, 5, 5, 7])
    len_r = np.array([5, 6, 20, 9, 8, 7])
    out = score_length_control(gap, len_c, len_r, unit="characters")
    assert out["chosen_longer"]["value"] == pytest.approx(2 / 3)
    assert out["chosen_longer"]["n"] == 3
    assert out["chosen_shorter"]["value"] == 0.0  # the gap of 0 counts as wrong
    assert out["equal"]["value"] == 1.0 and out["equal"]["n"] == 1
    assert out["longer_wins_baseline"]["value"] == pytest.approx((3 + 0.5) / 6)
    assert out["shorter_wins_baseline"]["value"] == pytest.approx((2 + 0.5) / 6)
    assert out["length_balanced_accuracy"]["value"] == pytest.approx((2 / 3 + 0) / 2)
    assert sum(b["n"] for b in out["bins"]) == 6


def test_strata_intervals_and_spearman_match_statsmodels_scipy():
    rng = np.random.default_rng(1)
    n = 500
    diff = rng.integers(-50, 51, n)
    gap = rng.normal(0, 1, n) + diff / 40  # an RM that likes length
    len_r = rng.integers(60, 200, n)
    out = score_length_control(gap, len_r + diff, len_r)
    longer = diff > 0
    k = int((gap[longer] > 0).sum())
    lo, hi = proportion_confint(k, int(longer.sum()), method="wilson")
    assert (out["chosen_longer"]["ci_low"], out["chosen_longer"]["ci_high"]) == (
        pytest.approx(lo),
        pytest.approx(hi),
    )
    assert out["spearman_gap_length_diff"] == pytest.approx(stats.spearmanr(gap, diff)[0])
    assert out["chosen_longer"]["value"] > out["chosen_shorter"]["value"]
    bal = out["length_balanced_accuracy"]
    assert bal["ci_low"] < bal["value"] < bal["ci_high"]
    for b in out["bins"]:
        m = (diff >= b["lo"]) & (diff <= b["hi"])
        assert b["n"] == int(m.sum())
        assert b["accuracy"]["value"] == pytest.approx(np.mean(gap[m] > 0))


@pytest.mark.parametrize("seed", range(3))
def test_lc_win_rate_matches_statsmodels_glm(seed):
    rng = np.random.default_rng(seed)
    n = 400
    len_diff = rng.normal(100, 300, n)
    score_diff = rng.normal(0.2, 1, n) + len_diff / 300
    score_diff[:20] = 0.0  # ties enter as 0.5
    out = lc_win_rate(score_diff, len_diff, b=1000)
    y = np.where(score_diff > 0, 1.0, np.where(score_diff < 0, 0.0, 0.5))
    x = np.tanh(len_diff / len_diff.std())
    fit = sm.GLM(y, sm.add_constant(x), family=sm.families.Binomial()).fit()
    assert out["intercept"] == pytest.approx(fit.params[0], rel=1e-6)
    assert out["length_coefficient"] == pytest.approx(fit.params[1], rel=1e-6)
    assert out["lc_win_rate"]["value"] == pytest.approx(1 / (1 + np.exp(-fit.params[0])))
    assert out["raw_win_rate"] == pytest.approx(y.mean())
    lc = out["lc_win_rate"]
    assert lc["ci_low"] < lc["value"] < lc["ci_high"]
    # Longer answers win here, and A is longer on average: controlling lowers the rate.
    assert lc["value"] < out["raw_win_rate"]


def test_lc_win_rate_without_length_signal_equals_raw():
    score_diff = np.array([1.0, -1.0, 2.0, 3.0, -0.5, 1.0])
    out = lc_win_rate(score_diff, np.zeros(6), b=1000)
    assert out["lc_win_rate"]["value"] == pytest.approx(4 / 6)
    assert out["raw_win_rate"] == pytest.approx(4 / 6)


def test_lc_win_rate_large_n_wald_interval_matches_statsmodels():
    rng = np.random.default_rng(5)
    n = 20_000  # above the bootstrap limit at B = 2000
    len_diff = rng.normal(50, 200, n)
    score_diff = rng.normal(0.1, 1, n) + len_diff / 200
    out = lc_win_rate(score_diff, len_diff)
    assert "Wald" in out["lc_win_rate"]["method"]
    x = np.tanh(len_diff / len_diff.std())
    fit = sm.GLM(
        (score_diff > 0).astype(float), sm.add_constant(x), family=sm.families.Binomial()
    ).fit()
    lo, hi = fit.conf_int(0.05)[0]
    expit = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    assert out["lc_win_rate"]["ci_low"] == pytest.approx(expit(lo), rel=1e-4)
    assert out["lc_win_rate"]["ci_high"] == pytest.approx(expit(hi), rel=1e-4)


def test_lc_win_rate_without_a_maximum_says_so_instead_of_printing_1():
    """Every length difference far from 0 relative to their spread (A always about 200
    characters longer): tanh(diff / std) is 1 for every prompt, so b0 and b1 are not
    separately identified and the fit runs off. There is no LC win rate to report (the
    old output read 1.000); the raw rate stays, and the reason is given."""
    from preflens.cli.diagnose_output import fmt_interval
    from preflens.headline import headline, headline_caption
    from preflens.length_control import NOT_ESTIMABLE

    rng = np.random.default_rng(0)
    length_diff = rng.normal(2000, 10, 60)
    score_diff = rng.normal(0.3, 1, 60)
    x = np.tanh(length_diff / length_diff.std())
    assert np.linalg.matrix_rank(np.c_[np.ones(60), x], tol=1e-9) == 1  # b0, b1 unidentified
    out = lc_win_rate(score_diff, length_diff, b=1000)
    lc = out["lc_win_rate"]
    assert lc["value"] is None and lc["ci_low"] is None and lc["note"] == NOT_ESTIMABLE
    assert out["raw_win_rate"] == pytest.approx(np.mean(score_diff > 0))
    assert out["converged"] is False and out["intercept"] is None
    assert fmt_interval(lc).startswith("n/a (not estimable")
    assert headline_caption(headline("LC win rate", lc)).startswith("not estimable")


def test_lc_win_rate_when_length_alone_splits_wins_from_losses():
    """A wins exactly where it is longer: the logistic fit has no finite maximum (perfect
    separation), so there is no LC win rate, only the raw one and the reason."""
    from preflens.length_control import NOT_ESTIMABLE

    length_diff = np.linspace(-300, 300, 41)
    length_diff = length_diff[length_diff != 0]
    out = lc_win_rate(np.sign(length_diff), length_diff, b=1000)
    assert out["lc_win_rate"]["value"] is None and out["lc_win_rate"]["note"] == NOT_ESTIMABLE
    assert out["raw_win_rate"] == pytest.approx(0.5)
