"""Policy comparison statistics against independent computations."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special
import scipy.stats

from preflens.stats import compare, compare_diffs, pearson, policy_stats, ranks, sigmoid, spearman


def test_ranks_average_ties():
    assert ranks(np.array([10.0, 20.0, 10.0, 5.0])).tolist() == [2.5, 4.0, 2.5, 1.0]


def test_correlations_match_definitions():
    rng = np.random.default_rng(0)
    x = rng.normal(size=50)
    y = 2 * x + rng.normal(size=50)
    cov = np.mean((x - x.mean()) * (y - y.mean()))
    assert pearson(x, y) == pytest.approx(cov / (x.std() * y.std()))
    # Spearman is invariant under monotone transforms, Pearson is not.
    assert spearman(x, np.exp(y)) == pytest.approx(spearman(x, y))
    assert pearson(x, np.exp(y)) != pytest.approx(pearson(x, y))
    assert spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert pearson([1, 1, 1], [1, 2, 3]) is None


def test_compare_counts_wins_ties_losses():
    out = compare([1.0, 2.0, 3.0, 4.0], [0.0, 2.05, 5.0, 4.0], tie_margin=0.1)
    assert (out["wins"], out["ties"], out["losses"]) == (1, 2, 1)
    assert out["win_rate"] == pytest.approx((1 + 2 / 2) / 4)  # a tie is half a win
    assert out["decisive_win_rate"] == pytest.approx(1 / 2)
    assert out["mean_diff"] == pytest.approx(np.mean([1.0, -0.05, -2.0, 0.0]))


def test_policy_stats():
    out = policy_stats([1.0, 3.0], chars=[10, 30], tokens=[2, 6], cut=[False, True])
    assert out["mean"] == 2.0 and out["std"] == 1.0 and out["cut_at_limit"] == 1
    assert out["mean_chars"] == 20 and out["pearson_length_score"] == pytest.approx(1.0)


def test_demo_like_outcome_reads_as_more_wins_than_losses():
    """15 wins, 5 ties, 12 losses: the policy wins more than it loses, and both rates say
    so (wins / n would say 46.9%)."""
    d = np.array([1.0] * 15 + [0.0] * 5 + [-1.0] * 12)
    out = compare_diffs(d)
    assert out["win_rate"] == pytest.approx(17.5 / 32)
    assert out["decisive_win_rate"] == pytest.approx(15 / 27)
    assert out["win_rate"] > 0.5 and out["decisive_win_rate"] > 0.5


def test_identical_answers_tie_whatever_the_float_noise():
    d = np.array([1e-7, -1e-7, 0.5])
    out = compare_diffs(d, same=[True, True, False])
    assert (out["wins"], out["ties"], out["losses"]) == (1, 2, 0)
    assert compare_diffs(d)["ties"] == 0


def test_no_decisive_outcome_has_no_decisive_rate():
    out = compare_diffs(np.zeros(3))
    assert out["ties"] == 3 and out["win_rate"] == 0.5 and out["decisive_win_rate"] is None


@pytest.mark.parametrize(
    "x", [-1e6, -800.0, -30.0, 0.0, 30.0, 800.0, 1e6, float("inf"), -float("inf")]
)
def test_sigmoid_is_stable(x):
    value = sigmoid(x)
    assert 0.0 <= value <= 1.0
    assert value == pytest.approx(float(scipy.special.expit(x)))


def test_ranks_equal_scipy_average_ranks_with_ties():
    rng = np.random.default_rng(3)
    for n in (0, 1, 5, 200):
        x = rng.integers(0, 7, n).astype(float)
        np.testing.assert_array_equal(ranks(x), scipy.stats.rankdata(x, method="average"))
