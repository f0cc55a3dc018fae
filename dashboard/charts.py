"""Pure Altair chart builders: a DataFrame in (the shapes ``dashboard.frames`` makes),
an Altair chart out. No Streamlit and no store here, so each builder is tested by its
Vega-Lite dict alone.
"""

from __future__ import annotations

from collections.abc import Iterable

import altair as alt
import pandas as pd

from dashboard import palette

HEIGHT = 300  # plot area (axes, titles and legends come on top), in pixels
# Chosen and rejected keep their colours on every chart; runs keep theirs by id, other
# series (a policy) by name: the one palette is ``dashboard.palette``.
CHOSEN_COLOR = palette.CHOSEN
REJECTED_COLOR = palette.REJECTED
TIE_COLOR = palette.NEUTRAL
FIXED_COLORS = palette.FIXED
NAMED_COLORS = palette.SERIES
name_color = palette.name_color
series_colors = palette.series_colors
# Train vs eval never by colour: solid line + circle for train, dashed + square for eval.
SPLITS = ["train", "eval"]
SPLIT_DASH = [[1, 0], [6, 4]]
SPLIT_SHAPE = ["circle", "square"]
# The plot area is ``height`` tall and legends come on top of it (Vega-Lite's default
# "fit" would squeeze the plot under tall legends); the width still fills the column.
FIT_WIDTH = alt.AutoSizeParams(type="fit-x", contains="padding")
# Legends show every label in full and wrap to more columns, never cut with "…".
LEGEND = {"orient": "top", "labelLimit": 0, "columns": 3, "symbolLimit": 0}


def color_scale(names: Iterable[str]) -> alt.Scale:
    """An Altair colour scale over ``names`` from the palette (legend order: as given)."""
    ordered = list(dict.fromkeys(str(n) for n in names))
    colors = series_colors(ordered)
    return alt.Scale(domain=ordered, range=[colors[n] for n in ordered])


def _rules(rules: pd.DataFrame | None) -> list[alt.Chart]:
    """Vertical marker lines (rows: label, x), each labelled at the top."""
    if rules is None or rules.empty:
        return []
    base = alt.Chart(rules)
    line = base.mark_rule(color=TIE_COLOR, strokeDash=[4, 3], strokeWidth=2).encode(
        x="x:Q", tooltip=["label:N", alt.Tooltip("x:Q", format=".4f")]
    )
    text = base.mark_text(align="left", dx=4, dy=-4, baseline="top", color=TIE_COLOR).encode(
        x="x:Q", y=alt.value(0), text="label:N"
    )
    return [line, text]


def histogram_chart(
    df: pd.DataFrame,
    *,
    x_title: str = "score",
    title: str | None = None,
    rules: pd.DataFrame | None = None,
    column: str | None = None,
    height: int = HEIGHT,
    y_max: float | None = None,
    select: bool = False,
) -> alt.TopLevelMixin:
    """Pre-binned histograms (rows: series, bin_start, bin_end, count), overlaid and
    coloured by series; ``rules`` (label, x) adds marker lines. With ``column``, one panel
    per value of that column side by side, on the same x and y axes (at a fixed width:
    in a narrow column, draw one chart per value with ``y_max`` instead). ``select``: a
    click on a bar selects its edges (selection ``bin``)."""
    lo, hi = float(df["bin_start"].min()), float(df["bin_end"].max())
    if rules is not None and not rules.empty:
        lo, hi = min(lo, float(rules["x"].min())), max(hi, float(rules["x"].max()))
    x_scale = alt.Scale(domain=[lo, hi], nice=False)
    # ``y_max``: the same count axis as charts drawn beside this one.
    y_scale = alt.Scale(domain=[0, y_max]) if y_max is not None else alt.Undefined
    colors = color_scale(df["series"])

    def panel(data: pd.DataFrame, panel_title: str | None) -> alt.LayerChart:
        bars = (
            alt.Chart(data)
            .mark_bar(opacity=0.55, binSpacing=0)
            .encode(
                x=alt.X("bin_start:Q", bin="binned", title=x_title, scale=x_scale),
                x2="bin_end:Q",
                y=alt.Y("count:Q", stack=None, title="count", scale=y_scale),
                color=alt.Color(
                    "series:N", title=None, legend=alt.Legend(orient="top"), scale=colors
                ),
                tooltip=[
                    "series:N",
                    alt.Tooltip("bin_start:Q", format=".4f", title="from"),
                    alt.Tooltip("bin_end:Q", format=".4f", title="to"),
                    "count:Q",
                ],
            )
        )
        if select:  # a clicked bar is the page's selection "bin" (its edges)
            bars = bars.add_params(alt.selection_point(name="bin", fields=["bin_start", "bin_end"]))
        layer = alt.layer(bars, *_rules(rules)).properties(height=height)
        if panel_title is not None:
            layer = layer.properties(title=panel_title)
        return layer

    if column is None:
        chart = panel(df, title).properties(width="container")
        return chart
    panels = [panel(df[df[column] == value], str(value)) for value in df[column].unique()]
    chart = alt.hconcat(*panels).resolve_scale(y="shared", x="shared", color="shared")
    return chart.properties(title=title) if title else chart


def cdf_chart(
    df: pd.DataFrame, *, x_title: str = "score", title: str | None = None, height: int = HEIGHT
) -> alt.Chart:
    """Empirical CDFs (rows: series, x, p) as step lines, one colour per series."""
    chart = (
        alt.Chart(df)
        .mark_line(interpolate="step-after")
        .encode(
            x=alt.X("x:Q", title=x_title, scale=alt.Scale(zero=False)),
            y=alt.Y("p:Q", title="share of values <= x", scale=alt.Scale(domain=[0, 1])),
            color=alt.Color(
                "series:N",
                title=None,
                legend=alt.Legend(orient="top"),
                scale=color_scale(df["series"]),
            ),
            tooltip=[
                "series:N",
                alt.Tooltip("x:Q", format=".4f"),
                alt.Tooltip("p:Q", format=".3f"),
            ],
        )
        .properties(width="container", height=height)
    )
    return chart.properties(title=title) if title else chart


def box_chart(
    df: pd.DataFrame, *, x_title: str = "score", title: str | None = None, height: int | None = None
) -> alt.LayerChart:
    """Horizontal box plots from precomputed statistics (rows: series, whisker_low, q1,
    median, q3, whisker_high, mean, n): whiskers as a rule, the box from q1 to q3, the
    median as a tick and the mean as a diamond."""
    base = alt.Chart(df).encode(y=alt.Y("series:N", title=None, sort=list(df["series"])))
    tooltip = ["series:N", "n:Q"] + [
        alt.Tooltip(f"{k}:Q", format=".4f")
        for k in ("whisker_low", "q1", "median", "q3", "whisker_high", "mean")
    ]
    whiskers = base.mark_rule(color=TIE_COLOR).encode(
        x=alt.X("whisker_low:Q", title=x_title, scale=alt.Scale(zero=False)),
        x2="whisker_high:Q",
        tooltip=tooltip,
    )
    box = base.mark_bar(size=22).encode(
        x="q1:Q",
        x2="q3:Q",
        color=alt.Color("series:N", legend=None, scale=color_scale(df["series"])),
        tooltip=tooltip,
    )
    median = base.mark_tick(color="white", size=22, thickness=2).encode(x="median:Q")
    mean = base.mark_point(shape="diamond", filled=True, color="black", size=40).encode(
        x="mean:Q", tooltip=tooltip
    )
    chart = alt.layer(whiskers, box, median, mean).properties(
        width="container", height=height or 110 + 45 * max(len(df), 1)
    )
    return chart.properties(title=title) if title else chart


def category_chart(df: pd.DataFrame, *, title: str | None = None) -> alt.LayerChart:
    """Accuracy per category (rows: run, category, pairs, accuracy), runs side by side in
    each category, with the 0.5 chance line."""
    bars = (
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=alt.X("accuracy:Q", scale=alt.Scale(domain=[0, 1]), title="accuracy"),
            y=alt.Y("category:N", title=None),
            yOffset="run:N",
            color=alt.Color(
                "run:N", title=None, legend=alt.Legend(orient="top"), scale=color_scale(df["run"])
            ),
            tooltip=["run:N", "category:N", "pairs:Q", alt.Tooltip("accuracy:Q", format=".3f")],
        )
    )
    chance = alt.Chart(pd.DataFrame({"x": [0.5]})).mark_rule(strokeDash=[4, 3]).encode(x="x:Q")
    n_rows = max(df["category"].nunique(), 1) * max(df["run"].nunique(), 1)
    chart = alt.layer(bars, chance).properties(width="container", height=90 + 26 * n_rows)
    return chart.properties(title=title) if title else chart


METRIC_HEIGHT = 280  # a training chart's plot area (at least 260 px), legends on top


def padded_domain(values: Iterable[float], *, pad: float = 0.06) -> list[float]:
    """[low, high] holding every value with a margin of ``pad`` of the span on each side,
    so no point (nor its marker) sits on the edge and none is clipped."""
    numbers = [float(v) for v in values]
    lo, hi = min(numbers), max(numbers)
    span = hi - lo or (abs(hi) * 0.2 or 1.0)  # one value (a constant learning rate)
    return [lo - pad * span, hi + pad * span]


def metric_chart(
    df: pd.DataFrame,
    *,
    title: str,
    y_title: str | None = None,
    reference: tuple[str, float] | None = None,
    height: int = METRIC_HEIGHT,
) -> alt.LayerChart:
    """Training curves (rows: series, split, metric, step, value, run): colour by
    ``series`` (a run, or chosen / rejected in their fixed colours) and, never by colour,
    train vs eval: solid line and circles for train, dashed line and squares for eval.
    Both legends name what they mean and show every label in full. Both axes are padded
    around every point (a lone eval point is never clipped at an edge); ``reference``
    (label, y) draws a dashed neutral line, e.g. a loss at chance (ln 2)."""
    splits = [s for s in SPLITS if s in set(df["split"])] or SPLITS
    dash = alt.Scale(domain=SPLITS, range=SPLIT_DASH)
    shape = alt.Scale(domain=SPLITS, range=SPLIT_SHAPE)
    # Below the plot, on a row of its own: beside the run legend on top it ran past the
    # right edge of a narrow chart (two charts side by side at 1024 px).
    split_legend = alt.Legend(orient="bottom", title="split", values=splits, labelLimit=0)
    ys = list(df["value"]) + ([reference[1]] if reference else [])
    y_scale = alt.Scale(domain=padded_domain(ys), nice=False, zero=False)
    x_scale = alt.Scale(domain=padded_domain(df["step"], pad=0.04), nice=False, zero=False)
    lines = (
        alt.Chart(df)
        .mark_line(point=alt.OverlayMarkDef(size=30, filled=True), clip=False)
        .encode(
            x=alt.X("step:Q", title="step", scale=x_scale),
            y=alt.Y("value:Q", title=y_title or title, scale=y_scale),
            color=alt.Color(
                "series:N",
                title=None,
                scale=color_scale(df["series"]),
                legend=alt.Legend(**LEGEND),
            ),
            strokeDash=alt.StrokeDash("split:N", scale=dash, legend=split_legend),
            shape=alt.Shape("split:N", scale=shape, legend=split_legend),
            detail="metric:N",
            tooltip=[
                "run:N",
                "split:N",
                "metric:N",
                "step:Q",
                alt.Tooltip("value:Q", format=".5g"),
            ],
        )
    )
    layers: list[alt.Chart] = [lines]
    if reference is not None:
        ref = pd.DataFrame({"label": [reference[0]], "y": [float(reference[1])]})
        base = alt.Chart(ref)
        layers.append(
            base.mark_rule(color=TIE_COLOR, strokeDash=[4, 3]).encode(
                y="y:Q", tooltip=["label:N", alt.Tooltip("y:Q", format=".4f")]
            )
        )
        layers.append(
            base.mark_text(align="right", baseline="bottom", dy=-2, color=TIE_COLOR).encode(
                y="y:Q", x=alt.value("width"), text="label:N"
            )
        )
    return alt.layer(*layers).properties(
        title=title, width="container", height=height, autosize=FIT_WIDTH
    )


# frames.cut_label's states and their shapes (states are shapes, never series colours).
CUT_STATES = ["neither cut", "A cut at limit", "B cut at limit", "both cut at limit"]
CUT_SHAPES = ["circle", "triangle-up", "triangle-down", "cross"]


def scatter_chart(df: pd.DataFrame, *, a: str, b: str, title: str | None = None) -> alt.LayerChart:
    """Per prompt, policy A's score (y) against policy B's (x), shaped by which answers
    were cut at the length limit (a state: shape, never a series colour), with the y = x
    line: points above it are A's wins. A point can be selected (``pair``): the page
    opens that prompt's answers."""
    lo = float(min(df["score_a"].min(), df["score_b"].min())) if len(df) else 0.0
    hi = float(max(df["score_a"].max(), df["score_b"].max())) if len(df) else 1.0
    points = (
        alt.Chart(df)
        .mark_point(size=45, opacity=0.75, filled=True)
        .encode(
            x=alt.X("score_b:Q", title=f"score of {b} (B)", scale=alt.Scale(zero=False)),
            y=alt.Y("score_a:Q", title=f"score of {a} (A)", scale=alt.Scale(zero=False)),
            # A state, not a series: cut answers are crosses in a neutral tone.
            shape=alt.Shape(
                "cut:N",
                title="cut at the length limit",
                scale=alt.Scale(domain=CUT_STATES, range=CUT_SHAPES),
                legend=alt.Legend(orient="top", labelLimit=0),
            ),
            color=alt.value(palette.NEUTRAL),
            tooltip=[
                "pair_id:Q",
                "category:N",
                alt.Tooltip("score_a:Q", format=".4f"),
                alt.Tooltip("score_b:Q", format=".4f"),
                "tokens_a:Q",
                "tokens_b:Q",
                "cut:N",
            ],
        )
    )
    diagonal = (
        alt.Chart(pd.DataFrame({"v": [lo, hi], "line": ["y = x", "y = x"]}))
        .mark_line(color=TIE_COLOR, strokeDash=[5, 4])
        .encode(x="v:Q", y="v:Q", tooltip=["line:N"])
    )
    points = points.add_params(alt.selection_point(name="pair", fields=["pair_id"]))
    chart = alt.layer(points, diagonal).properties(width="container", height=400)
    return chart.properties(title=title) if title else chart


def length_chart(df: pd.DataFrame, *, title: str | None = None) -> alt.LayerChart:
    """Answer length (characters) against score (rows: policy, chars, score, finish), one
    colour per policy, answers cut at the limit drawn as crosses, with each policy's
    least-squares line."""
    colors = color_scale(df["policy"])
    points = (
        alt.Chart(df)
        .mark_point(size=40, filled=True, opacity=0.7)
        .encode(
            x=alt.X("chars:Q", title="answer length (characters)"),
            y=alt.Y("score:Q", title="score", scale=alt.Scale(zero=False)),
            color=alt.Color("policy:N", title=None, legend=alt.Legend(orient="top"), scale=colors),
            shape=alt.Shape(
                "finish:N",
                title=None,
                scale=alt.Scale(domain=["ended", "cut at limit"], range=["circle", "cross"]),
            ),
            tooltip=[
                "policy:N",
                "chars:Q",
                "tokens:Q",
                alt.Tooltip("score:Q", format=".4f"),
                "finish:N",
            ],
        )
    )
    fit = (
        alt.Chart(df)
        .transform_regression("chars", "score", groupby=["policy"])
        .mark_line(strokeWidth=2)
        .encode(x="chars:Q", y="score:Q", color=alt.Color("policy:N", scale=colors, legend=None))
    )
    chart = alt.layer(points, fit).properties(width="container", height=380)
    return chart.properties(title=title) if title else chart


def wins_chart(df: pd.DataFrame, *, title: str | None = None) -> alt.Chart:
    """Wins / ties / losses (rows: outcome, count, order) as one stacked bar."""
    outcomes = list(df.sort_values("order")["outcome"])
    # "A wins" in A's colour, "B wins" in B's, ties grey: the policies' colours elsewhere.
    palette = series_colors(o.removesuffix(" wins") for o in outcomes)
    colors = alt.Scale(domain=outcomes, range=[palette[o.removesuffix(" wins")] for o in outcomes])
    chart = (
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=alt.X("count:Q", stack="zero", title="prompts"),
            color=alt.Color("outcome:N", title=None, sort=outcomes, scale=colors),
            order=alt.Order("order:Q"),
            tooltip=["outcome:N", "count:Q"],
        )
        .properties(width="container", height=110)
    )
    return chart.properties(title=title) if title else chart


TITLE_CHARS = 28  # a title line that fits a half-width chart at 1024 px (13 px bold)


def wrap_lines(text: str, width: int = TITLE_CHARS) -> list[str]:
    """``text`` as lines of at most ``width`` characters, broken between words."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def wrap_title(figure: alt.TopLevelMixin, width: int = TITLE_CHARS) -> alt.TopLevelMixin:
    """The chart with its title (a plain string longer than ``width``) broken into lines,
    so Vega never cuts it with "…" in a narrow column."""
    title = getattr(figure, "title", alt.Undefined)
    if isinstance(title, str) and len(title) > width:
        return figure.properties(title=alt.TitleParams(text=wrap_lines(title, width)))
    return figure
