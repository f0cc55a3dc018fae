"""The headline component: verdicts computed from the intervals (checked against
statsmodels' Wilson interval), the terminal line, p-value formatting, and the headlines
of stored runs (a worse-than-chance untrained run, a mostly-cut generation run)."""

from __future__ import annotations

import pytest
from statsmodels.stats.proportion import proportion_confint

from db.read.headlines import run_headlines, score_headline
from preflens import headline as hl
from tests.diagnostics_seed import backwards_gap, seed_comparisons


def iv(k: float, n: int) -> dict:
    lo, hi = proportion_confint(k, n, method="wilson")
    return {"value": k / n, "ci_low": lo, "ci_high": hi, "n": n, "method": "wilson"}


@pytest.mark.parametrize(
    ("k", "n", "verdict"),
    [(30, 100, hl.BELOW_CHANCE), (45, 100, hl.NOT_DIFFERENT), (62, 100, None)],
)
def test_chance_verdicts_follow_the_interval(k, n, verdict):
    h = hl.headline("accuracy", iv(k, n))
    chance = {hl.BELOW_CHANCE, hl.NOT_DIFFERENT} & set(h["verdicts"])
    assert chance == ({verdict} if verdict else set())


def test_length_baseline_untrained_and_cut_verdicts():
    # 0.55 [0.45, 0.64] is above chance but entirely below a 0.70 baseline
    h = hl.headline("accuracy", iv(55, 100), baseline=iv(70, 100), untrained=True)
    assert hl.BELOW_LENGTH in h["verdicts"] and hl.UNTRAINED in h["verdicts"]
    assert hl.BELOW_LENGTH not in hl.headline("a", iv(66, 100), baseline=iv(70, 100))["verdicts"]
    assert hl.MOST_CUT in hl.headline("w", iv(20, 32), cut=(17, 32))["verdicts"]
    assert hl.MOST_CUT not in hl.headline("w", iv(20, 32), cut=(16, 32))["verdicts"]


def test_headline_text_has_value_interval_n_method_and_badges():
    h = hl.headline("accuracy", iv(30, 100), untrained=True)
    lo, hi = proportion_confint(30, 100, method="wilson")
    assert hl.headline_text(h) == (
        f"accuracy 0.300 [{lo:.3f}, {hi:.3f}] n=100 (Wilson 95%) [untrained head] [below chance]"
    )
    assert hl.headline_text(h, pct=True).startswith(f"accuracy 30.0% [{100 * lo:.1f}%,")


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (9.1e-13, "9.1e-13"),
        (0.000999, "1.0e-03"),
        (0.001, "0.001"),
        (0.4567, "0.457"),
        (None, "n/a"),
    ],
)
def test_p_values_use_scientific_notation_when_small(p, text):
    assert hl.fmt_p(p) == text


def test_stored_worse_than_chance_and_mostly_cut_runs(store):
    seeded = seed_comparisons(store)
    n = len(seeded.diag.base.pair_ids)
    k = sum(backwards_gap(i) > 0 for i in range(n))
    with store() as s:
        h = score_headline(s, seeded.backwards_run)
        assert (h["value"], h["n"]) == (k / n, n)
        assert h["ci_high"] == pytest.approx(proportion_confint(k, n, method="wilson")[1])
        assert {hl.BELOW_CHANCE, hl.UNTRAINED} <= set(h["verdicts"])
        # the after-training run is above chance and has a trained head
        after = score_headline(s, seeded.diag.after_run)["verdicts"]
        assert hl.BELOW_CHANCE not in after and hl.UNTRAINED not in after
        gen = run_headlines(s, seeded.diag.base.gen_score_run)
        assert gen and all(hl.MOST_CUT in g["verdicts"] for g in gen)
        assert gen[0]["cut"]["at_limit"] > gen[0]["cut"]["of"] / 2
