"""Pure builders of the Over training page: frames from ``db.read.series.series`` and
``db.read.bon.bon_summary`` results, and Altair charts over them (no Streamlit, so they
are testable alone). Colours follow ``dashboard.palette``: a series is coloured by its
name, intervals are bands of the same colour, chance and peaks are neutral rules."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from dashboard.palette import GAP, NEUTRAL, NEUTRAL_LIGHT, series_colors

HEIGHT = 240
FIT = alt.AutoSizeParams(type="fit-x", contains="padding")


def interval_frame(points: list[dict[str, Any]], metric: str, x: str = "step") -> pd.DataFrame:
    """Rows (x, value, low, high, method) of one interval metric of each point."""
    rows = []
    for p in points:
        iv = p[metric] or {}
        rows.append(
            {
                x: p[x],
                "value": iv.get("value"),
                "low": iv.get("ci_low"),
                "high": iv.get("ci_high"),
                "method": iv.get("method"),
            }
        )
    return pd.DataFrame(rows, columns=[x, "value", "low", "high", "method"])


def band_chart(
    df: pd.DataFrame,
    *,
    title: str,
    y_title: str,
    reference: tuple[str, float] | None = None,
    x: str = "step",
    x_title: str = "step",
    color: str = GAP,
    log_x: bool = False,
) -> alt.LayerChart:
    """A value per ``x`` as a line with points, its 95% interval as a band of the same
    colour, and an optional dashed neutral reference line (e.g. chance); ``log_x`` draws
    x on a base-2 log scale (k of best-of-k)."""
    x_enc = k_axis(df[x], x_title, x) if log_x else alt.X(f"{x}:Q", title=x_title)
    base = alt.Chart(df).encode(x=x_enc)
    tooltip = [f"{x}:Q", alt.Tooltip("value:Q", format=".4f"), "low:Q", "high:Q", "method:N"]
    layers = [
        base.mark_area(opacity=0.2, color=color).encode(
            y=alt.Y("low:Q", title=y_title, scale=alt.Scale(zero=False)), y2="high:Q"
        ),
        base.mark_line(point=True, color=color).encode(y="value:Q", tooltip=tooltip),
    ]
    if reference is not None:
        ref = pd.DataFrame({"label": [reference[0]], "y": [reference[1]]})
        layers.append(
            alt.Chart(ref)
            .mark_rule(color=NEUTRAL, strokeDash=[4, 3])
            .encode(y="y:Q", tooltip=["label:N", "y:Q"])
        )
    return alt.layer(*layers).properties(
        title=title, width="container", height=HEIGHT, autosize=FIT
    )


def k_axis(ks: Any, title: str, field: str = "k") -> alt.X:
    """k on a base-2 log scale from 1 to the largest k, ticks at the k values themselves
    (1, 2, 4, ..., N), not the scale's own round numbers."""
    values = sorted({int(k) for k in ks})
    domain = [1, max(values)] if values and max(values) > 1 else [1, 2]
    return alt.X(
        f"{field}:Q",
        title=title,
        scale=alt.Scale(type="log", base=2, domain=domain),
        axis=alt.Axis(values=values, format="d"),
    )


def plain_frame(points: list[dict[str, Any]], key: str) -> pd.DataFrame:
    """Rows (step, value) of a plain number of each point (e.g. ECE)."""
    return pd.DataFrame([{"step": p["step"], "value": p[key]} for p in points])


def changes_frame(points: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows (step, change, pairs) per point after the first: pairs learned (positive) and
    forgotten (drawn negative) since the previous point, with the McNemar p-value."""
    rows = []
    for p in points[1:]:
        vs = p["vs_previous"]
        rows.append(
            {"step": p["step"], "change": "learned", "pairs": vs["learned"], "p": vs["mcnemar_p"]}
        )
        rows.append(
            {
                "step": p["step"],
                "change": "forgotten",
                "pairs": -vs["forgotten"],
                "p": vs["mcnemar_p"],
            }
        )
    return pd.DataFrame(rows, columns=["step", "change", "pairs", "p"])


def changes_chart(df: pd.DataFrame) -> alt.Chart:
    """Pairs learned (up) and forgotten (down) at each step, against the previous point."""
    scale = alt.Scale(domain=["learned", "forgotten"], range=[GAP, NEUTRAL])
    return (
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=alt.X("step:O", title="step", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("pairs:Q", title="pairs (forgotten drawn below 0)"),
            color=alt.Color("change:N", scale=scale, legend=alt.Legend(orient="top", title=None)),
            tooltip=["step:O", "change:N", "pairs:Q", alt.Tooltip("p:Q", format=".2e")],
        )
        .properties(
            title="Pairs learned and forgotten since the previous step",
            width="container",
            height=HEIGHT,
            autosize=FIT,
        )
    )


def trajectory_frame(steps: list[int], trajectories: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows (pair, step, gap) of the per-pair gap trajectories."""
    rows = [
        {"pair": f"pair {t['pair_id']}", "pair_id": t["pair_id"], "step": s, "gap": g}
        for t in trajectories
        for s, g in zip(steps, t["gaps"], strict=True)
    ]
    return pd.DataFrame(rows, columns=["pair", "pair_id", "step", "gap"])


def trajectory_chart(df: pd.DataFrame) -> alt.LayerChart:
    """Each selected pair's gap (chosen - rejected) per step; above 0 is right."""
    colors = series_colors(df["pair"])
    scale = alt.Scale(domain=list(colors), range=list(colors.values()))
    lines = (
        alt.Chart(df)
        .mark_line(point=alt.OverlayMarkDef(size=60, filled=True))
        .encode(
            x=alt.X("step:Q", title="step"),
            y=alt.Y("gap:Q", title="gap (chosen - rejected)"),
            color=alt.Color("pair:N", scale=scale, legend=alt.Legend(orient="right", title=None)),
            tooltip=["pair:N", "step:Q", alt.Tooltip("gap:Q", format=".4f")],
        )
        # a click on a point selects its pair (the page then links to it in Cases)
        .add_params(alt.selection_point(name="pair", fields=["pair_id"]))
    )
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color=NEUTRAL_LIGHT).encode(y="y:Q")
    return alt.layer(zero, lines).properties(
        title="Gap per step of the selected pairs (above 0: right)",
        width="container",
        height=HEIGHT,
        autosize=FIT,
    )


def bon_frame(b: dict[str, Any], names: tuple[str, ...] = ("proxy", "gold")) -> pd.DataFrame:
    """Rows (k, kl, curve, value, low, high) of the named best-of-k curves."""
    rows = []
    for name in names:
        for j, iv in enumerate(b["curves"].get(name) or []):
            rows.append(
                {
                    "k": b["ks"][j],
                    "kl": b["kl"][j],
                    "curve": name,
                    "value": iv["value"],
                    "low": iv["ci_low"],
                    "high": iv["ci_high"],
                }
            )
    return pd.DataFrame(rows, columns=["k", "kl", "curve", "value", "low", "high"])


def bon_chart(df: pd.DataFrame, peak: dict[str, Any] | None) -> alt.LayerChart:
    """Proxy and gold reward of the proxy's best-of-k pick on one axis against k (log
    scale; the tooltip gives the KL), bootstrap bands, the gold peak as a neutral rule."""
    colors = series_colors(df["curve"])
    scale = alt.Scale(domain=list(colors), range=list(colors.values()))
    x = k_axis(df["k"], "k (best of k, log scale)")
    base = alt.Chart(df).encode(x=x, color=alt.Color("curve:N", scale=scale, title=None))
    tooltip = ["curve:N", "k:Q", alt.Tooltip("kl:Q", format=".3f", title="KL (nats)")]
    tooltip += [alt.Tooltip("value:Q", format=".4f"), "low:Q", "high:Q"]
    layers = [
        base.mark_area(opacity=0.2).encode(
            y=alt.Y("low:Q", title="reward of the pick", scale=alt.Scale(zero=False)), y2="high:Q"
        ),
        base.mark_line(point=True).encode(y="value:Q", tooltip=tooltip),
    ]
    if peak is not None:
        mark = pd.DataFrame({"k": [peak["k"]], "label": [f"gold peak k={peak['k']}"]})
        layers.append(
            alt.Chart(mark)
            .mark_rule(color=NEUTRAL, strokeDash=[4, 3])
            .encode(x="k:Q", tooltip=["label:N"])
        )
    return alt.layer(*layers).properties(
        title="Best-of-k: proxy and gold reward of the proxy's pick",
        width="container",
        height=HEIGHT,
        autosize=FIT,
    )
