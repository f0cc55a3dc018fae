"""The chart builders: DataFrame in, Altair chart out; checked by their Vega-Lite dicts
(marks, encodings, layers, the data they carry)."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard import charts, frames


def data_of(spec: dict, part: dict) -> list[dict]:
    """The rows a (layer of a) Vega-Lite spec draws."""
    return spec["datasets"][part["data"]["name"]]


def layer_with(spec: dict, mark: str) -> dict:
    found = [part for part in spec["layer"] if _mark(part) == mark]
    assert found, f"no {mark} layer in {[_mark(p) for p in spec['layer']]}"
    return found[0]


def _mark(part: dict) -> str:
    mark = part["mark"]
    return mark["type"] if isinstance(mark, dict) else mark


@pytest.fixture
def hist():
    return pd.DataFrame(
        {
            "series": ["chosen"] * 3 + ["rejected"] * 3,
            "bin_start": [0.0, 1.0, 2.0] * 2,
            "bin_end": [1.0, 2.0, 3.0] * 2,
            "count": [1, 4, 2, 3, 2, 0],
        }
    )


def test_histogram_overlays_prebinned_series_with_marker_lines(hist):
    rules = pd.DataFrame({"label": ["tie", "A"], "x": [0.0, 4.5]})
    spec = charts.histogram_chart(hist, title="scores", rules=rules).to_dict()
    bars = layer_with(spec, "bar")
    enc = bars["encoding"]
    assert enc["x"]["field"] == "bin_start" and enc["x"]["bin"] == "binned"
    assert enc["x2"]["field"] == "bin_end"
    assert enc["y"]["field"] == "count" and enc["y"]["stack"] is None  # overlaid, not stacked
    assert enc["color"]["field"] == "series"
    assert data_of(spec, bars) == hist.to_dict("records")
    # The x domain covers the bins and every marker (a live score outside the range).
    assert enc["x"]["scale"]["domain"] == [0.0, 4.5]
    rule = layer_with(spec, "rule")
    assert rule["encoding"]["x"]["field"] == "x"
    assert [r["x"] for r in data_of(spec, rule)] == [0.0, 4.5]
    assert layer_with(spec, "text")["encoding"]["text"]["field"] == "label"
    assert spec["title"] == "scores"


def test_histogram_without_rules_has_only_bars(hist):
    spec = charts.histogram_chart(hist).to_dict()
    assert [_mark(p) for p in spec["layer"]] == ["bar"]


def test_histograms_side_by_side_share_their_axes(hist):
    df = pd.concat([hist.assign(run="#1 (before)"), hist.assign(run="#5 (after)")])
    spec = charts.histogram_chart(df, column="run", title="two runs").to_dict()
    assert len(spec["hconcat"]) == 2
    assert [p["title"] for p in spec["hconcat"]] == ["#1 (before)", "#5 (after)"]
    assert spec["resolve"]["scale"] == {"x": "shared", "y": "shared", "color": "shared"}
    domains = [p["layer"][0]["encoding"]["x"]["scale"]["domain"] for p in spec["hconcat"]]
    assert domains[0] == domains[1] == [0.0, 3.0]


def test_cdf_is_a_step_line_per_series():
    df = pd.DataFrame({"series": ["a", "a", "b"], "x": [0.1, 0.5, 0.2], "p": [0.5, 1.0, 1.0]})
    spec = charts.cdf_chart(df, x_title="gap").to_dict()
    assert spec["mark"]["type"] == "line" and spec["mark"]["interpolate"] == "step-after"
    enc = spec["encoding"]
    assert (enc["x"]["field"], enc["y"]["field"], enc["color"]["field"]) == ("x", "p", "series")
    assert enc["y"]["scale"]["domain"] == [0, 1] and enc["x"]["title"] == "gap"
    assert data_of(spec, spec) == df.to_dict("records")


def test_box_plot_draws_precomputed_statistics():
    df = pd.DataFrame(
        {
            "series": ["rejected", "chosen"],
            "n": [10, 10],
            "mean": [0.1, 0.6],
            "whisker_low": [-1.0, 0.0],
            "q1": [-0.5, 0.3],
            "median": [0.0, 0.5],
            "q3": [0.4, 0.9],
            "whisker_high": [1.0, 1.5],
        }
    )
    spec = charts.box_chart(df).to_dict()
    whiskers, box, median, mean = spec["layer"]
    assert _mark(whiskers) == "rule"
    assert whiskers["encoding"]["x"]["field"] == "whisker_low"
    assert whiskers["encoding"]["x2"]["field"] == "whisker_high"
    assert _mark(box) == "bar"
    assert (box["encoding"]["x"]["field"], box["encoding"]["x2"]["field"]) == ("q1", "q3")
    assert _mark(median) == "tick" and median["encoding"]["x"]["field"] == "median"
    assert mean["mark"]["shape"] == "diamond" and mean["encoding"]["x"]["field"] == "mean"
    # Series keep the frame's order (not alphabetical).
    assert {tuple(part["encoding"]["y"]["sort"]) for part in spec["layer"]} == {
        ("rejected", "chosen")
    }
    assert data_of(spec, spec) == df.to_dict("records")


def test_category_accuracy_groups_runs_with_the_chance_line():
    df = pd.DataFrame(
        {
            "run": ["#1", "#1", "#5", "#5"],
            "category": ["safety", "facts", "safety", "facts"],
            "pairs": [3, 4, 3, 4],
            "accuracy": [0.33, 0.5, 1.0, 0.75],
        }
    )
    spec = charts.category_chart(df).to_dict()
    bars = layer_with(spec, "bar")
    assert bars["encoding"]["x"]["field"] == "accuracy"
    assert bars["encoding"]["x"]["scale"]["domain"] == [0, 1]
    assert bars["encoding"]["y"]["field"] == "category"
    assert bars["encoding"]["yOffset"]["field"] == "run"
    assert data_of(spec, layer_with(spec, "rule")) == [{"x": 0.5}]


def test_metric_chart_puts_several_runs_on_one_chart():
    df = pd.DataFrame(
        {
            "run": ["#2", "#2", "#6", "#6"],
            "metric": ["train/loss", "eval/loss", "train/loss", "train/loss"],
            "step": [1, 1, 2, 4],
            "value": [0.7, 0.6, 0.69, 0.5],
            "split": ["train", "eval", "train", "train"],
        }
    ).assign(series=lambda d: d["run"])
    full = charts.metric_chart(df, title="Loss", y_title="loss").to_dict()
    spec = full["layer"][0]
    assert spec["mark"]["type"] == "line" and "point" in spec["mark"]
    enc = spec["encoding"]
    assert enc["x"]["field"] == "step" and enc["y"]["field"] == "value"
    # Colour: the run; train vs eval: dash and point shape.
    assert enc["color"]["field"] == "series" and enc["strokeDash"]["field"] == "split"
    assert enc["shape"]["field"] == "split"
    assert enc["color"]["scale"]["domain"] == ["#2", "#6"]
    assert enc["y"]["title"] == "loss" and full["title"] == "Loss"
    assert data_of(full, spec if "data" in spec else full) == df.to_dict("records")


def scatter_points() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "pair_id": [1, 2, 3],
            "category": ["a", "b", None],
            "score_a": [1.0, -2.0, 0.5],
            "score_b": [0.0, 3.0, 0.5],
            "tokens_a": [5, 6, 7],
            "tokens_b": [8, 9, 10],
            "cut": ["neither cut", "A cut at limit", "neither cut"],
        }
    )


def test_scatter_has_points_and_the_y_equals_x_line():
    spec = charts.scatter_chart(scatter_points(), a="dpo", b="base").to_dict()
    points = layer_with(spec, "point")
    assert points["encoding"]["x"]["field"] == "score_b"
    assert points["encoding"]["y"]["field"] == "score_a"
    # Answers cut at the limit: a state, drawn as a shape in a neutral tone (not a colour).
    assert points["encoding"]["shape"]["field"] == "cut"
    shapes = points["encoding"]["shape"]["scale"]
    assert shapes["domain"] == [
        frames.cut_label(a, b)
        for a, b in (("stop", "stop"), ("length", "stop"), ("stop", "length"), ("length", "length"))
    ]
    assert len(set(shapes["range"])) == 4
    assert points["encoding"]["color"] == {"value": charts.TIE_COLOR}
    assert "dpo" in points["encoding"]["y"]["title"] and "base" in points["encoding"]["x"]["title"]
    line = layer_with(spec, "line")
    assert line["encoding"]["x"]["field"] == line["encoding"]["y"]["field"] == "v"
    # The diagonal spans every score of either policy.
    assert [r["v"] for r in data_of(spec, line)] == [-2.0, 3.0]


def test_length_chart_marks_cut_answers_and_fits_a_line_per_policy():
    df = pd.DataFrame(
        {
            "policy": ["base", "base", "dpo", "dpo"],
            "chars": [10, 40, 20, 80],
            "tokens": [3, 9, 5, 20],
            "score": [0.1, 0.4, 0.3, 0.9],
            "finish": ["ended", "cut at limit", "ended", "ended"],
        }
    )
    spec = charts.length_chart(df).to_dict()
    points, fit = spec["layer"]
    assert points["encoding"]["x"]["field"] == "chars"
    assert points["encoding"]["y"]["field"] == "score"
    assert points["encoding"]["shape"]["field"] == "finish"
    assert points["encoding"]["shape"]["scale"]["range"] == ["circle", "cross"]
    (regression,) = fit["transform"]
    assert regression == {"regression": "score", "on": "chars", "groupby": ["policy"]}


def test_wins_chart_stacks_outcomes_in_order():
    df = pd.DataFrame(
        {"outcome": ["base wins", "dpo wins", "tie"], "count": [10, 9, 1], "order": [2, 0, 1]}
    )
    spec = charts.wins_chart(df).to_dict()
    assert spec["mark"]["type"] == "bar"
    enc = spec["encoding"]
    assert enc["x"]["field"] == "count" and enc["x"]["stack"] == "zero"
    assert enc["color"]["sort"] == ["dpo wins", "tie", "base wins"]
    assert enc["order"]["field"] == "order"


def test_best_of_k_axis_ticks_are_the_k_values():
    """The best-of-k charts put ticks at k = 1, 2, 4, ..., N on a base-2 log scale that
    ends at N (Vega's own log ticks read 1, 3, 5, 7.5 for N = 8)."""
    from dashboard.over_charts import band_chart, bon_chart, bon_frame

    ks = [1, 2, 4, 8]
    curve = [{"value": 0.1 * k, "ci_low": 0.0, "ci_high": 1.0} for k in ks]
    b = {"ks": ks, "kl": [0.0, 0.19, 0.64, 1.2], "curves": {"proxy": curve, "gold": curve}}
    spec = bon_chart(bon_frame(b), None).to_dict()
    x = spec["layer"][0]["encoding"]["x"]
    assert x["axis"]["values"] == ks and x["scale"] == {"type": "log", "base": 2, "domain": [1, 8]}
    lengths = pd.DataFrame({"k": ks, "value": ks, "low": ks, "high": ks, "method": "b"})
    spec = band_chart(lengths, title="t", y_title="tokens", x="k", x_title="k", log_x=True)
    spec = spec.to_dict()
    assert spec["layer"][0]["encoding"]["x"]["axis"]["values"] == ks


def test_map_chart_shows_one_verdict_legend():
    """Coloured by verdict, the map's colour and shape share the field, title and legend:
    Vega-Lite merges them into one legend of coloured shapes (a colour legend of None
    would hide the merged legend, and the reader could not tell right from wrong)."""
    from dashboard.map_charts import map_chart

    points = pd.DataFrame(
        {
            "pair_id": [1, 2],
            "x": [0.0, 1.0],
            "y": [0.0, 1.0],
            "verdict": ["right", "wrong"],
            "gap": [0.5, -0.5],
            "cluster_name": ["a", "a"],
            "preview": ["p", "q"],
        }
    )
    labels = pd.DataFrame({"x": [0.5], "y": [0.5], "cluster_name": ["a"]})
    enc = map_chart(points, labels).to_dict()["layer"][0]["encoding"]
    assert enc["color"]["legend"] == enc["shape"]["legend"] is not None
    assert enc["color"]["title"] == enc["shape"]["title"]
    assert enc["color"]["legend"]["titleLimit"] == 0  # the title is not cut
