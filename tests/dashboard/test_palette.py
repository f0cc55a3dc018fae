"""One palette (``dashboard.palette``): a run keeps one colour on every chart of every
page, chosen and rejected keep theirs, and the Training page's charts are one per
quantity per kind, tall, with chance lines and axes that hold every point."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterator

import pandas as pd

from dashboard import charts, curves, palette
from tests.dashboard.test_curves import RM, RUNS, SIGMOID, SIMPO, metric_rows


def color_maps(spec: object) -> Iterator[dict[str, str]]:
    """Every colour scale (domain -> range) anywhere in a Vega-Lite spec."""
    if isinstance(spec, dict):
        color = spec.get("color")
        if isinstance(color, dict):
            scale = color.get("scale") or {}
            if isinstance(scale.get("domain"), list) and isinstance(scale.get("range"), list):
                yield dict(zip(map(str, scale["domain"]), scale["range"], strict=True))
        for value in spec.values():
            yield from color_maps(value)
    elif isinstance(spec, list):
        for value in spec:
            yield from color_maps(value)


def run_colors(specs: list[dict]) -> dict[int, set[str]]:
    """Run id -> every colour a ``#<id> ...`` series got in these specs."""
    seen: dict[int, set[str]] = defaultdict(set)
    for spec in specs:
        for mapping in color_maps(spec):
            for name, color in mapping.items():
                run = palette.run_id_of(name)
                if run is not None:
                    seen[run].add(color)
    return seen


def page_specs(at) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("vega_lite_chart")]


def test_a_run_keeps_one_colour_on_every_chart_of_every_page(dash, open_page):
    specs = {name: page_specs(open_page(name)) for name in ("reward_model", "training")}
    seen = run_colors([s for page in specs.values() for s in page])
    before, after = dash.base.score_run, dash.after_run
    # The Reward model page draws both runs of the before/after pair under several labels
    # ("#1 (before)", "#1 score · ..."): each run is still one colour.
    assert {before, after, dash.base.train_run, dash.dpo_run} <= set(seen)
    for run, colors in seen.items():
        assert colors == {palette.run_color(run)}, (run, colors)
    assert palette.run_color(before) != palette.run_color(after)
    # Chosen and rejected: their fixed colours wherever they appear, and no run takes them.
    for spec in specs["reward_model"] + specs["training"]:
        for mapping in color_maps(spec):
            assert mapping.get("chosen", palette.CHOSEN) == palette.CHOSEN
            assert mapping.get("rejected", palette.REJECTED) == palette.REJECTED
    assert not {palette.CHOSEN, palette.REJECTED} & {c for cs in seen.values() for c in cs}


def test_run_colour_follows_the_id_not_the_label():
    labels = ["#3 (before)", "#3 score · rm-toy · toy/test", "#3 train_rm rm-toy", "#13 x"]
    colors = palette.series_colors(labels)
    assert {colors[n] for n in labels[:3]} == {palette.run_color(3)}
    assert palette.run_color(3) not in palette.FIXED.values()
    assert len(set(palette.SERIES)) == len(palette.SERIES)
    assert not set(palette.SERIES) & set(palette.FIXED.values())
    # Two policies on one chart never share a colour, whichever order they come in.
    pair = palette.series_colors(["base", "dpo"])
    assert pair == palette.series_colors(["dpo", "base"]) and len(set(pair.values())) == 2


def training_specs() -> dict[str, dict]:
    drawn = curves.training_curves(metric_rows(), RUNS)
    return {
        c.title: charts.metric_chart(
            c.rows, title=c.title, y_title=c.y_title, reference=c.reference
        ).to_dict()
        for c in drawn
    }


def lines_of(spec: dict) -> tuple[dict, pd.DataFrame]:
    layer = spec["layer"][0]
    name = (layer.get("data") or spec["data"])["name"]
    return layer, pd.DataFrame(spec["datasets"][name])


def rules_of(spec: dict) -> list[float]:
    out = []
    for layer in spec["layer"][1:]:
        if layer["mark"]["type"] == "rule":
            out += [row["y"] for row in spec["datasets"][layer["data"]["name"]]]
    return out


def test_rm_and_dpo_losses_never_share_an_axis():
    specs = training_specs()
    runs_of = {t: set(lines_of(s)[1]["run"]) for t, s in specs.items()}
    assert runs_of["RM loss"] == {RM}
    assert runs_of["DPO loss"] == {SIGMOID}
    assert runs_of["SimPO loss"] == {SIMPO}  # another loss type: its own axis as well
    for title, runs in runs_of.items():
        kinds = {RUNS[r]["kind"] for r in runs}
        losses = {(RUNS[r].get("config") or {}).get("loss") for r in runs}
        assert len(kinds) == 1 and len(losses) == 1, (title, runs)


def test_training_charts_are_tall_with_chance_lines_and_every_point_inside():
    specs = training_specs()
    for title, spec in specs.items():
        assert spec["height"] >= 260, title
        # The plot area is that tall: legends come on top (never squeezed by "fit").
        assert spec["autosize"]["type"] == "fit-x", title
        layer, rows = lines_of(spec)
        lo, hi = layer["encoding"]["y"]["scale"]["domain"]
        assert lo < rows["value"].min() and rows["value"].max() < hi, title
        x_lo, x_hi = layer["encoding"]["x"]["scale"]["domain"]
        assert x_lo < rows["step"].min() and rows["step"].max() < x_hi, title  # lone eval point
        for y in rules_of(spec):
            assert lo < y < hi, title
        legend = layer["encoding"]["color"]["legend"]
        assert legend["labelLimit"] == 0  # full labels, never cut with "…"
    assert rules_of(specs["RM loss"]) == [math.log(2)]
    assert rules_of(specs["DPO loss"]) == [math.log(2)]
    assert rules_of(specs["SimPO loss"]) == []  # SimPO starts elsewhere: no ln 2 claim
    assert rules_of(specs["RM accuracy (chosen scored above rejected)"]) == [0.5]
    assert rules_of(specs["DPO implicit rewards: accuracy"]) == [0.5]


def test_a_domain_holds_a_value_of_exactly_one():
    lo, hi = charts.padded_domain([0.8, 0.9, 1.0])
    assert lo < 0.8 and hi > 1.0
    lo, hi = charts.padded_domain([0.5])  # one point: a span around it
    assert lo < 0.5 < hi


def test_widgets_accent_is_neutral_and_matches_the_palette():
    from dashboard.launch import ACCENT, streamlit_command

    cmd = streamlit_command("127.0.0.1", 8501)
    assert cmd[cmd.index("--theme.primaryColor") + 1] == ACCENT == palette.ACCENT
    assert ACCENT not in (palette.CHOSEN, palette.REJECTED, *palette.SERIES)


def test_a_constant_series_gets_a_tight_axis():
    lo, hi = charts.padded_domain([5e-5, 5e-5, 5e-5])
    assert lo < 5e-5 < hi and hi - lo < 1e-4


def test_the_interval_chart_says_what_each_colour_is_about():
    from dashboard import diagnostic_charts as dc

    iv = {"value": 0.6, "ci_low": 0.5, "ci_high": 0.7, "n": 40}
    rows = [("accuracy", iv, "chosen"), ("longer wins", iv, "longer"), ("shorter", iv, "shorter")]
    spec = dc.interval_chart(dc.interval_frame(rows), "Headline").to_dict()
    (dots,) = [p for p in spec["layer"] if p["mark"]["type"] == "point"]
    legend = dots["encoding"]["color"]["legend"]
    assert legend["labelLimit"] == 0
    for meaning in dc.SERIES_MEANING.values():
        assert meaning in legend["labelExpr"]
    scale = dots["encoding"]["color"]["scale"]
    assert dict(zip(scale["domain"], scale["range"], strict=True)) == {
        "chosen": palette.CHOSEN,
        "longer": palette.LONGER,
        "shorter": palette.SHORTER,
    }


def test_the_report_draws_in_the_palettes_colours():
    from preflens.cli import report

    iv = {"value": 0.6, "ci_low": 0.5, "ci_high": 0.7, "n": 40}
    svg = report.interval_bars([("accuracy", iv, report.GREEN), ("longer", iv, report.LONGER)])
    assert palette.CHOSEN in svg and palette.LONGER in svg
    flips = report.paired_scatter_svg(
        [{"gap_a": -1.0, "gap_b": 1.0}, {"gap_a": 1.0, "gap_b": -1.0}, {"gap_a": 1.0, "gap_b": 2.0}]
    )
    assert palette.CHOSEN in flips and palette.REJECTED in flips
    assert palette.NEUTRAL_LIGHT in flips
