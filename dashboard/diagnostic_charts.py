"""Pure builders for the Diagnostics page: frames from ``db.read.diagnostics`` results,
and Altair charts from frames. No Streamlit, no store; series keep the one palette of
``dashboard.palette`` (chosen green, rejected red, runs by id, other names by hash)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt
import pandas as pd

from dashboard import palette
from dashboard.charts import CHOSEN_COLOR, HEIGHT, REJECTED_COLOR, TIE_COLOR, name_color

LONGER_COLOR = palette.LONGER  # the longer-wins baseline and the "chosen longer" stratum
SHORTER_COLOR = palette.SHORTER
AFTER_TEMPERATURE_COLOR = palette.AFTER_TEMPERATURE
FLIP_COLORS = {
    "wrong -> right": CHOSEN_COLOR,
    "right -> wrong": REJECTED_COLOR,
    "unchanged": palette.NEUTRAL_LIGHT,
}
# What each colour of the interval chart means (its legend).
SERIES_MEANING = {
    "chosen": "chosen vs rejected",
    "longer": "the longer response",
    "shorter": "the shorter response",
}


def interval_frame(rows: Sequence[tuple[str, dict[str, Any] | None, str]]) -> pd.DataFrame:
    """(label, interval dict, series) rows -> label, value, ci_low, ci_high, n, series
    (rows without an estimate are dropped)."""
    out = [
        {
            "label": label,
            "value": iv["value"],
            "ci_low": iv["ci_low"],
            "ci_high": iv["ci_high"],
            "n": iv.get("n"),
            "series": series,
        }
        for label, iv, series in rows
        if iv and iv.get("value") is not None
    ]
    cols = ["label", "value", "ci_low", "ci_high", "n", "series"]
    return pd.DataFrame(out, columns=cols)


def _series_scale(names: Sequence[str]) -> alt.Scale:
    fixed = {
        "longer": LONGER_COLOR,
        "shorter": SHORTER_COLOR,
        "sigmoid(gap)": palette.GAP,
        "after temperature": AFTER_TEMPERATURE_COLOR,
    }
    domain = list(dict.fromkeys(names))
    return alt.Scale(domain=domain, range=[fixed.get(n) or name_color(n) for n in domain])


def interval_chart(df: pd.DataFrame, title: str, rule: float | None = 0.5) -> alt.LayerChart:
    """One row per number: a dot at the value and a bar over its 95% interval, on [0, 1];
    a dashed rule at ``rule`` (chance)."""
    y = alt.Y("label:N", sort=None, title=None, axis=alt.Axis(labelLimit=260))
    scale = _series_scale(list(df["series"]))
    x_scale = alt.Scale(domain=[0, 1])
    tooltip = ["label", "value", "ci_low", "ci_high", "n"]
    bars = (
        alt.Chart(df)
        .mark_rule(strokeWidth=4, opacity=0.5)
        .encode(
            x=alt.X("ci_low:Q", scale=x_scale, title="value with 95% interval"),
            x2="ci_high:Q",
            y=y,
            color=alt.Color("series:N", scale=scale, legend=None),
            tooltip=tooltip,
        )
    )
    # The legend says what each colour is about (labels in full, never cut).
    meaning = " : ".join(f"datum.label == '{k}' ? '{v}'" for k, v in SERIES_MEANING.items())
    legend = alt.Legend(
        title="about", orient="top", labelLimit=0, labelExpr=f"{meaning} : datum.label"
    )
    dots = (
        alt.Chart(df)
        .mark_point(filled=True, size=80)
        .encode(
            x="value:Q",
            y=y,
            color=alt.Color("series:N", scale=scale, legend=legend),
            tooltip=tooltip,
        )
    )
    layers = [bars, dots]
    if rule is not None:
        line = pd.DataFrame({"x": [rule]})
        layers.append(alt.Chart(line).mark_rule(strokeDash=[4, 3], color=TIE_COLOR).encode(x="x:Q"))
    # A step per row (not a fixed height), so each number gets its own line.
    return alt.layer(*layers).properties(title=title, height=alt.Step(28))


def reliability_frame(calibration: dict[str, Any]) -> pd.DataFrame:
    """Non-empty reliability bins, before and (if fitted) after temperature scaling."""
    rows = []
    for series, key in (("sigmoid(gap)", "bins"), ("after temperature", "bins_after_temperature")):
        for b in calibration.get(key) or []:
            if b["n"]:
                rows.append(
                    {
                        "series": series,
                        "mean_predicted": b["mean_predicted"],
                        "observed": b["observed"],
                        "n": b["n"],
                    }
                )
    return pd.DataFrame(rows, columns=["series", "mean_predicted", "observed", "n"])


def reliability_chart(df: pd.DataFrame, title: str = "Reliability diagram") -> alt.LayerChart:
    """Observed share against mean predicted probability per bin (size: n), with the
    diagonal of perfect calibration."""
    unit = alt.Scale(domain=[0, 1])
    diagonal = pd.DataFrame({"x": [0.0, 1.0], "y": [0.0, 1.0]})
    line = (
        alt.Chart(diagonal)
        .mark_line(strokeDash=[4, 3], color=TIE_COLOR)
        .encode(x=alt.X("x:Q", scale=unit), y=alt.Y("y:Q", scale=unit))
    )
    names = list(dict.fromkeys(df["series"]))
    points = (
        alt.Chart(df)
        .mark_circle(opacity=0.8)
        .encode(
            x=alt.X("mean_predicted:Q", scale=unit, title="mean predicted P(first preferred)"),
            y=alt.Y("observed:Q", scale=unit, title="observed share"),
            size=alt.Size("n:Q", legend=None),
            color=alt.Color("series:N", scale=_series_scale(names)),
            tooltip=["series", "mean_predicted", "observed", "n"],
        )
    )
    return alt.layer(line, points).properties(title=title, height=HEIGHT)


def length_bins_frame(length: dict[str, Any]) -> pd.DataFrame:
    """Accuracy per length-difference bin: bin label (in order), value, interval, n."""
    rows = [
        {
            "bin": f"{b['lo']:.0f} .. {b['hi']:.0f}",
            "order": i,
            "value": b["accuracy"]["value"],
            "ci_low": b["accuracy"]["ci_low"],
            "ci_high": b["accuracy"]["ci_high"],
            "n": b["n"],
        }
        for i, b in enumerate(length["bins"])
    ]
    return pd.DataFrame(rows, columns=["bin", "order", "value", "ci_low", "ci_high", "n"])


def length_bins_chart(
    df: pd.DataFrame, longer_wins: float | None, shorter_wins: float | None, unit: str
) -> alt.LayerChart:
    """Accuracy by length-difference bin with 95% error bars; the longer-wins and
    shorter-wins baselines drawn as horizontal rules in their own colours."""
    x = alt.X("bin:N", sort=alt.SortField("order"), title=f"length difference ({unit})")
    unit_scale = alt.Scale(domain=[0, 1])
    bars = (
        alt.Chart(df)
        .mark_rule()
        .encode(x=x, y=alt.Y("ci_low:Q", scale=unit_scale, title="accuracy"), y2="ci_high:Q")
    )
    dots = (
        alt.Chart(df)
        .mark_point(filled=True, size=60, color="#333333")
        .encode(x=x, y="value:Q", tooltip=["bin", "value", "ci_low", "ci_high", "n"])
    )
    base = pd.DataFrame(
        [
            {"baseline": "longer wins", "y": longer_wins},
            {"baseline": "shorter wins", "y": shorter_wins},
        ]
    ).dropna()
    rules = (
        alt.Chart(base)
        .mark_rule(strokeDash=[6, 3])
        .encode(
            y="y:Q",
            color=alt.Color(
                "baseline:N",
                scale=alt.Scale(
                    domain=["longer wins", "shorter wins"], range=[LONGER_COLOR, SHORTER_COLOR]
                ),
            ),
        )
    )
    return alt.layer(bars, dots, rules).properties(
        title="Accuracy by length difference (chosen - rejected)", height=HEIGHT
    )


def paired_frame(points: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Gap A and gap B per pair with the flip status (gap 0 counts wrong)."""
    df = pd.DataFrame(list(points), columns=["pair_id", "gap_a", "gap_b"])
    ra, rb = df["gap_a"] > 0, df["gap_b"] > 0
    df["flip"] = "unchanged"
    df.loc[~ra & rb, "flip"] = "wrong -> right"
    df.loc[ra & ~rb, "flip"] = "right -> wrong"
    return df


def paired_scatter_chart(df: pd.DataFrame, a: str, b: str) -> alt.LayerChart:
    """Gap in run a against gap in run b; flips highlighted; lines at 0."""
    scale = alt.Scale(domain=list(FLIP_COLORS), range=list(FLIP_COLORS.values()))
    points = (
        alt.Chart(df)
        .mark_circle(size=40, opacity=0.7)
        .encode(
            x=alt.X("gap_a:Q", title=f"gap, {a}"),
            y=alt.Y("gap_b:Q", title=f"gap, {b}"),
            color=alt.Color("flip:N", scale=scale),
            tooltip=["pair_id", "gap_a", "gap_b", "flip"],
        )
    )
    zero = pd.DataFrame({"z": [0.0]})
    vline = alt.Chart(zero).mark_rule(color=palette.NEUTRAL_LIGHT).encode(x="z:Q")
    hline = alt.Chart(zero).mark_rule(color=palette.NEUTRAL_LIGHT).encode(y="z:Q")
    return alt.layer(vline, hline, points).properties(
        title="Gap per pair: run a against run b", height=HEIGHT
    )
