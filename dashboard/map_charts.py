"""Pure builders of the Map page: frames from ``db.read.maps.map_view`` and the Altair
map (no Streamlit, so they are tested on their own)."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from dashboard import palette

VERDICTS = ["right", "wrong"]
# Right or wrong is a state, not a series: shapes and neutral tones (palette rules).
VERDICT_SHAPES = ["circle", "cross"]
VERDICT_COLORS = [palette.NEUTRAL_LIGHT, palette.NEUTRAL]
COLOR_BY = {"verdict": "right / wrong", "gap": "gap (chosen - rejected)"}


def _iv(iv: dict[str, Any] | None, pct: bool = False) -> str:
    if not iv or iv.get("value") is None:
        return "n/a"
    f = (lambda x: f"{x:.0%}") if pct else (lambda x: f"{x:.3f}")
    if iv.get("ci_low") is None:
        return f"{f(iv['value'])} (n too small for an interval)"
    return f"{f(iv['value'])} [{f(iv['ci_low'])}, {f(iv['ci_high'])}]"


def points_frame(view: dict[str, Any]) -> pd.DataFrame:
    """One row per drawn point, with its cluster's name and the verdict as text."""
    names = {c["id"]: c["name"] for c in view["clusters"]}
    df = pd.DataFrame(
        view["points"],
        columns=["pair_id", "x", "y", "cluster", "correct", "gap", "preview"],
    )
    df["cluster_name"] = [names.get(int(c), f"cluster {c}") for c in df["cluster"]]
    df["verdict"] = ["right" if c else "wrong" for c in df["correct"]]
    return df


def labels_frame(points: pd.DataFrame) -> pd.DataFrame:
    """Where each cluster's name is written: the median of its drawn points (noise, -1,
    is not labelled)."""
    shown = points[points["cluster"] != -1]
    if shown.empty:
        return pd.DataFrame(columns=["cluster", "cluster_name", "x", "y"])
    return (
        shown.groupby(["cluster", "cluster_name"], as_index=False)[["x", "y"]]
        .median()
        .sort_values("cluster")
    )


def clusters_frame(view: dict[str, Any]) -> pd.DataFrame:
    """The clusters, worst accuracy first, as the page's table shows them."""
    rows = [
        {
            "cluster": c["id"],
            "name": c["name"],
            "pairs": c["n"],
            "accuracy [95% CI]": _iv(c["accuracy"], pct=True),
            "gap mean [95% CI]": _iv(c["gap_mean"]),
            "chosen longer [95% CI]": _iv(c["chosen_longer"], pct=True),
        }
        for c in view["clusters"]
    ]
    return pd.DataFrame(rows)


def map_chart(
    points: pd.DataFrame, labels: pd.DataFrame, *, color_by: str = "verdict", title: str = ""
) -> alt.LayerChart:
    """The pairs in 2D: right pairs as light circles and wrong ones as dark crosses, or
    coloured by gap on a diverging scale centred at 0; each cluster's name written at its
    median; hovering shows the pair's prompt preview. A point can be selected (``pair``):
    the page links it and its cluster to Cases."""
    tooltip = [
        "pair_id:Q",
        alt.Tooltip("cluster_name:N", title="cluster"),
        "verdict:N",
        alt.Tooltip("gap:Q", format=".4f", title="gap (chosen - rejected)"),
        alt.Tooltip("preview:N", title="prompt"),
    ]
    verdict_title = "verdict (gap > 0 right; a tie wrong)"
    verdict_legend = alt.Legend(orient="top", labelLimit=0, titleLimit=0)
    shape = alt.Shape(
        "verdict:N",
        title=verdict_title,
        scale=alt.Scale(domain=VERDICTS, range=VERDICT_SHAPES),
        legend=verdict_legend,
    )
    if color_by == "gap":
        color = alt.Color(
            "gap:Q",
            title="gap (chosen - rejected)",
            scale=alt.Scale(scheme="blueorange", domainMid=0, reverse=True),
            legend=alt.Legend(orient="top"),
        )
    else:
        # The same field and title as the shape: one legend of coloured shapes (a colour
        # legend of None would hide the merged legend altogether).
        color = alt.Color(
            "verdict:N",
            title=verdict_title,
            scale=alt.Scale(domain=VERDICTS, range=VERDICT_COLORS),
            legend=verdict_legend,
        )
    base = alt.Chart(points).mark_point(size=40, opacity=0.8, filled=True)
    dots = base.encode(
        x=alt.X("x:Q", title="map x", axis=alt.Axis(labels=False, ticks=False)),
        y=alt.Y("y:Q", title="map y", axis=alt.Axis(labels=False, ticks=False)),
        shape=shape,
        color=color,
        tooltip=tooltip,
    ).add_params(alt.selection_point(name="pair", fields=["pair_id"]))
    names = (
        alt.Chart(labels)
        .mark_text(fontSize=13, fontWeight="bold", color="#000000", dy=-4)
        .encode(x="x:Q", y="y:Q", text="cluster_name:N")
    )
    chart = alt.layer(dots, names).properties(width="container", height=480)
    return chart.properties(title=title) if title else chart
