"""The Diagnostics page's chart builders (pure: frames in, Vega-Lite out) and the page
itself through AppTest on a seeded store (its numbers are db.read.diagnostics')."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from dashboard import diagnostic_charts as dc
from dashboard.charts import CHOSEN_COLOR, REJECTED_COLOR
from tests.conftest import REPO
from tests.diagnostics_seed import seed_diagnostics

IV = {"value": 0.7, "ci_low": 0.6, "ci_high": 0.8, "n": 50}


def _layers(chart) -> list[dict]:
    return chart.to_dict()["layer"]


def _mark(part: dict) -> str:
    m = part["mark"]
    return m["type"] if isinstance(m, dict) else m


def _rows(spec: dict, part: dict) -> list[dict]:
    return spec["datasets"][(part.get("data") or spec["data"])["name"]]


def test_interval_chart_draws_value_interval_and_chance_rule():
    rows = [("accuracy", IV, "chosen"), ("empty", {"value": None, "n": 0}, "chosen")]
    df = dc.interval_frame(rows)
    assert list(df["label"]) == ["accuracy"]  # no estimate, no bar
    spec = dc.interval_chart(df, "Headline").to_dict()
    marks = [_mark(p) for p in spec["layer"]]
    assert marks == ["rule", "point", "rule"]
    bar = spec["layer"][0]
    assert bar["encoding"]["x"]["field"] == "ci_low" and bar["encoding"]["x2"]["field"] == "ci_high"
    assert _rows(spec, bar)[0]["ci_high"] == 0.8
    assert _rows(spec, spec["layer"][2]) == [{"x": 0.5}]
    assert bar["encoding"]["color"]["scale"]["range"] == [CHOSEN_COLOR]


def test_reliability_frame_and_chart():
    cal = {
        "bins": [
            {"n": 0, "mean_predicted": None, "observed": None},
            {"n": 4, "mean_predicted": 0.15, "observed": 0.25},
        ],
        "bins_after_temperature": [{"n": 4, "mean_predicted": 0.2, "observed": 0.25}],
    }
    df = dc.reliability_frame(cal)
    assert list(df["series"]) == ["sigmoid(gap)", "after temperature"]
    spec = dc.reliability_chart(df).to_dict()
    line, points = spec["layer"]
    assert _rows(spec, line) == [{"x": 0.0, "y": 0.0}, {"x": 1.0, "y": 1.0}]
    assert points["encoding"]["size"]["field"] == "n"


def test_length_bins_chart_has_error_bars_and_both_baselines():
    length = {
        "bins": [
            {"lo": -20, "hi": -5, "n": 10, "accuracy": IV},
            {"lo": 0, "hi": 30, "n": 12, "accuracy": {**IV, "value": 0.9}},
        ]
    }
    df = dc.length_bins_frame(length)
    assert list(df["bin"]) == ["-20 .. -5", "0 .. 30"]
    spec = dc.length_bins_chart(df, 0.65, 0.35, "characters").to_dict()
    bars, dots, rules = spec["layer"]
    assert bars["encoding"]["y2"]["field"] == "ci_high"
    baselines = {r["baseline"]: r["y"] for r in _rows(spec, rules)}
    assert baselines == {"longer wins": 0.65, "shorter wins": 0.35}
    assert rules["encoding"]["color"]["scale"]["range"] == [dc.LONGER_COLOR, dc.SHORTER_COLOR]


def test_paired_scatter_marks_flips():
    points = [
        {"pair_id": 1, "gap_a": -1.0, "gap_b": 1.0},
        {"pair_id": 2, "gap_a": 1.0, "gap_b": 0.0},  # a gap of 0 is wrong
        {"pair_id": 3, "gap_a": 2.0, "gap_b": 1.0},
    ]
    df = dc.paired_frame(points)
    assert list(df["flip"]) == ["wrong -> right", "right -> wrong", "unchanged"]
    spec = dc.paired_scatter_chart(df, "run 1", "run 2").to_dict()
    scale = spec["layer"][2]["encoding"]["color"]["scale"]
    assert dict(zip(scale["domain"], scale["range"], strict=True))["right -> wrong"] == (
        REJECTED_COLOR
    )


@pytest.fixture
def seeded_page(store, app_env):
    return seed_diagnostics(store)


def test_diagnostics_page_shows_the_runs_numbers(seeded_page, store):
    from streamlit.testing.v1 import AppTest

    from db.read.diagnostics import run_diagnostics

    at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=90)
    at.run()
    at.switch_page("app_pages/diagnostics.py")
    at.session_state["diag_run"] = seeded_page.after_run
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    with store() as s:
        d = run_diagnostics(s, seeded_page.after_run)
    shown = {m.label: m.value for m in at.metric}
    acc = d["accuracy"]
    assert shown["accuracy"] == f"{acc['value']:.3f}"
    captions = [c.value for c in at.caption]
    ci = f"[{acc['ci_low']:.3f}, {acc['ci_high']:.3f}]"
    assert f"95% {ci} · n={acc['n']} · Wilson 95%" in captions
    assert shown["ECE"] == f"{d['calibration']['ece']:.3f}"
    assert "McNemar p" in shown and "shared pairs" in shown
    titles = [json.loads(c.proto.spec).get("title") for c in at.get("vega_lite_chart")]
    titles = [" ".join(t["text"]) if isinstance(t, dict) else t for t in titles]  # wrapped
    assert "Reliability diagram" in titles
    assert "Accuracy by length difference (chosen - rejected)" in titles
    assert "Gap per pair: run a against run b" in titles
    tables = [df.value for df in at.dataframe]
    assert any(isinstance(t, pd.DataFrame) and "open" in t.columns for t in tables)


def test_diagnostics_page_for_a_generation_comparison(seeded_page):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=90)
    at.run()
    at.switch_page("app_pages/diagnostics.py")
    at.session_state["diag_run"] = seeded_page.base.gen_score_run
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    shown = {m.label: m.value for m in at.metric}
    assert {"win rate dpo vs base", "LC win rate", "sign test p"} <= shown.keys()
    assert any("dpo (A) vs base (B)" in h.value for h in at.subheader)


def test_diagnostics_page_on_an_empty_store_says_what_to_run(store, app_env):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=90)
    at.run()
    at.switch_page("app_pages/diagnostics.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("preflens score" in m.value for m in at.info)


def test_diagnostics_page_badges_a_backwards_untrained_run(store, app_env):
    from streamlit.testing.v1 import AppTest

    from tests.diagnostics_seed import seed_comparisons

    seeded = seed_comparisons(store)
    at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=90)
    at.run()
    at.switch_page("app_pages/diagnostics.py")
    at.session_state["diag_run"] = seeded.backwards_run
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    marks = " ".join(m.value for m in at.markdown)
    assert "below chance" in marks and "untrained head" in marks
    assert any("fit failed: ranks pairs backwards" in w.value for w in at.warning)
    assert "ECE after temperature" not in {m.label for m in at.metric}
    # the comparison picker offers only runs on the same pairs; the other dataset's never
    offered = {o.split()[0] for o in at.selectbox(key="diag_against").options}
    expected = {seeded.diag.base.score_run, seeded.diag.after_run, seeded.diag.partial_run}
    assert offered == {f"#{i}" for i in expected}  # never the other dataset's run
    at.session_state["diag_run"] = seeded.diag.after_run
    at.run()
    assert at.selectbox(key="diag_against").value == seeded.diag.base.score_run  # partner


def test_policies_page_badges_mostly_cut_answers(store, app_env):
    from streamlit.testing.v1 import AppTest

    from tests.diagnostics_seed import seed_comparisons

    seed_comparisons(store)  # 3 of every 4 answers stopped at the token limit
    at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=90)
    at.run()
    at.switch_page("app_pages/policies.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "most answers cut" in " ".join(m.value for m in at.markdown)
    assert any("answers at the token limit" in c.value for c in at.caption)


def test_overview_headline_table_carries_intervals_and_verdicts(store, app_env):
    from statsmodels.stats.proportion import proportion_confint
    from streamlit.testing.v1 import AppTest

    from tests.diagnostics_seed import backwards_gap, seed_comparisons

    seeded = seed_comparisons(store)
    at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=90)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    frames = [el.value for el in [*at.dataframe, *at.table]]  # a data grid or a static table
    (table,) = [df for df in frames if "verdicts" in df.columns and "accuracy" in df.columns]
    row = table[table["run"].str.startswith(f"#{seeded.backwards_run} ")].iloc[0]
    k = sum(backwards_gap(i) > 0 for i in range(40))
    lo, hi = proportion_confint(k, 40, method="wilson")
    assert row["95% interval"] == f"[{lo:.3f}, {hi:.3f}]"
    assert "below chance" in row["verdicts"] and "untrained head" in row["verdicts"]
