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


def test_diagnostics_carry_the_headlines_and_a_failed_fit(store):
    from db.read.diagnostics import run_diagnostics

    seeded = seed_comparisons(store)
    with store() as s:
        d = run_diagnostics(s, seeded.backwards_run, b=1000)
        accuracy = d["headlines"][0]
        assert accuracy["label"] == "accuracy" and hl.BELOW_CHANCE in accuracy["verdicts"]
        cal = d["calibration"]
        assert cal["temperature_fit"].startswith("fit failed: ranks pairs backwards")
        assert cal["temperature"] is None and cal["ece_after_temperature"] is None
        g = run_diagnostics(s, seeded.diag.base.gen_score_run, b=1000)
        assert all(hl.MOST_CUT in c["headline"]["verdicts"] for c in g["comparisons"])


def test_cli_prints_badges_and_names_the_failed_fit(store, db_url, monkeypatch, capsys):
    from preflens.cli.main import main
    from preflens.config import get_settings

    seeded = seed_comparisons(store)
    monkeypatch.setenv("PREFLENS_DATABASE_URL", db_url)
    get_settings.cache_clear()
    assert main(["diagnose", str(seeded.backwards_run), "--bootstrap", "1000"]) == 0
    text = capsys.readouterr().out
    assert "headline: accuracy 0.250 [" in text and "[below chance]" in text
    assert "[untrained head]" in text
    assert "temperature: fit failed: ranks pairs backwards" in text
    assert "ECE after temperature" not in text
    assert main(["diagnose", str(seeded.diag.base.gen_score_run), "--bootstrap", "1000"]) == 0
    assert "[most answers cut]" in capsys.readouterr().out


def test_report_shows_badges_scientific_p_and_no_after_temperature(store, tmp_path):
    from db.read.diagnostics import paired, run_diagnostics
    from preflens.cli.report import render_report

    seeded = seed_comparisons(store)
    with store() as s:
        d = run_diagnostics(s, seeded.backwards_run, b=1000)
        p = paired(s, seeded.backwards_run, seeded.diag.after_run, b=1000)
    p["mcnemar_p"] = 9.1e-13  # the format of a very small p, whatever this seed gives
    html = render_report(d, p, [], [])
    assert "<b class=badge>below chance</b>" in html and "untrained head" in html
    assert "fit failed: ranks pairs backwards" in html and "ECE after temperature" not in html
    assert "McNemar exact p 9.1e-13" in html
