"""Pure Altair builders (and the frames they take) for the model probes: token heatmaps,
edit rankings, the DPO change-in-log-prob scatter and the RM-vs-DPO agreement scatter.
No Streamlit, no store: each is tested by its Vega-Lite dict.

Token text reaches the chart only as data for a ``text`` mark, which Vega draws as
text (never parsed as HTML or Markdown), so model output cannot inject anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt
import pandas as pd

from dashboard import palette

HEIGHT = 300
LINE_CHARS = 64  # characters per heatmap line before a token wraps
CHAR_PX = 7.5  # width of one character in the heatmap, in pixels
# Token values: a purple-orange scale, so red (rejected) and green (chosen) keep their
# meaning on every page.
DIVERGING = "purpleorange"


def shown_piece(text: str) -> str:
    """A token as it is drawn: a newline as the visible ``\\n`` and a tab as ``\\t``."""
    return text.replace("\n", "\\n").replace("\t", "\\t")


def token_frame(
    responses: Mapping[str, Sequence[Mapping[str, Any]]], line_chars: int = LINE_CHARS
) -> pd.DataFrame:
    """Tokens ({text, value, response}) of named responses as boxes laid out in lines:
    rows response, index, text, value, line, x0, x1 (x in characters). A line breaks
    before a token that would overflow it and after a token holding a newline."""
    rows = []
    for name, tokens in responses.items():
        line, x = 0, 0
        for i, tok in enumerate(tokens):
            shown = shown_piece(str(tok.get("text", "")))
            width = max(len(shown), 1)
            if x > 0 and x + width > line_chars:
                line, x = line + 1, 0
            rows.append(
                {
                    "response": name,
                    "index": i,
                    "text": shown,
                    "value": float(tok["value"]),
                    "end_of_turn": not tok.get("response", True),
                    "line": line,
                    "x0": x,
                    "x1": x + width,
                }
            )
            x += width
            if "\n" in str(tok.get("text", "")):
                line, x = line + 1, 0
    cols = ["response", "index", "text", "value", "end_of_turn", "line", "x0", "x1"]
    return pd.DataFrame(rows, columns=cols)


def symmetric_domain(values: Sequence[float]) -> list[float]:
    """[-m, m] with m the largest |value| (a shared, zero-centred colour scale)."""
    m = max((abs(float(v)) for v in values), default=1.0) or 1.0
    return [-m, m]


def token_heatmap_chart(
    df: pd.DataFrame, *, title: str | None = None, line_chars: int = LINE_CHARS
) -> alt.TopLevelMixin:
    """One panel per response (top to bottom), every token a box coloured by its value on
    ONE zero-centred scale shared by all panels, its text drawn on it."""
    domain = symmetric_domain(df["value"].tolist())
    color = alt.Color(
        "value:Q",
        title="value at token",
        scale=alt.Scale(scheme=DIVERGING, domain=domain, reverse=False),
    )
    x_scale = alt.Scale(domain=[0, line_chars], nice=False)
    panels = []
    for name in df["response"].unique():
        part = df[df["response"] == name]
        lines = int(part["line"].max()) + 1 if len(part) else 1
        base = alt.Chart(part).encode(
            y=alt.Y("line:O", axis=None),
            tooltip=["index:Q", "text:N", alt.Tooltip("value:Q", format=".4f")],
        )
        boxes = base.mark_rect(stroke="white", strokeWidth=0.5).encode(
            x=alt.X("x0:Q", axis=None, scale=x_scale), x2="x1:Q", color=color
        )
        text = base.mark_text(align="left", baseline="middle", dx=1, fontSize=11).encode(
            x=alt.X("x0:Q", axis=None, scale=x_scale), text="text:N"
        )
        panels.append(
            alt.layer(boxes, text).properties(
                title=str(name), width=line_chars * CHAR_PX, height=max(20 * lines, 24)
            )
        )
    chart = alt.vconcat(*panels).resolve_scale(color="shared")
    return chart.properties(title=title) if title else chart


def edit_change_chart(df: pd.DataFrame, *, height: int = HEIGHT) -> alt.LayerChart:
    """Mean score change per edit (rows: edit, mean, ci_low, ci_high) as points with 95%
    interval bars, in the frame's order, with a rule at zero."""
    order = df["edit"].tolist()
    base = alt.Chart(df).encode(y=alt.Y("edit:N", sort=order, title=None))
    bars = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("ci_low:Q", title="mean score change (edited - original), 95% CI"), x2="ci_high:Q"
    )
    points = base.mark_point(filled=True, size=60).encode(
        x="mean:Q",
        tooltip=[
            "edit:N",
            alt.Tooltip("mean:Q", format="+.4f"),
            alt.Tooltip("ci_low:Q", format="+.4f"),
            alt.Tooltip("ci_high:Q", format="+.4f"),
        ],
    )
    zero = alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(strokeDash=[4, 3]).encode(x="x:Q")
    return alt.layer(bars, points, zero).properties(height=height, width="container")


def flip_rate_chart(df: pd.DataFrame, *, height: int = HEIGHT) -> alt.LayerChart:
    """Flip rates per edit and edited side (rows: edit, side, rate, ci_low, ci_high) as
    grouped points with 95% Wilson bars."""
    order = list(dict.fromkeys(df["edit"].tolist()))
    base = alt.Chart(df).encode(
        y=alt.Y("edit:N", sort=order, title=None),
        yOffset=alt.YOffset("side:N"),
        color=alt.Color(
            "side:N",
            title="edited side",
            legend=alt.Legend(orient="top"),
            scale=alt.Scale(
                domain=["chosen", "rejected"], range=[palette.CHOSEN, palette.REJECTED]
            ),
        ),
    )
    bars = base.mark_rule(strokeWidth=2).encode(
        x=alt.X(
            "ci_low:Q",
            title="share of pairs whose order flips, 95% Wilson CI",
            scale=alt.Scale(domain=[0, 1]),
        ),
        x2="ci_high:Q",
    )
    points = base.mark_point(filled=True, size=60).encode(
        x="rate:Q",
        tooltip=["edit:N", "side:N", alt.Tooltip("rate:Q", format=".1%"), "k:Q", "n:Q"],
    )
    return alt.layer(bars, points).properties(height=height, width="container")


def _axes_rules() -> list[alt.Chart]:
    zero = pd.DataFrame({"v": [0.0]})
    return [
        alt.Chart(zero).mark_rule(strokeDash=[4, 3], color=palette.NEUTRAL).encode(x="v:Q"),
        alt.Chart(zero).mark_rule(strokeDash=[4, 3], color=palette.NEUTRAL).encode(y="v:Q"),
    ]


def dpo_quadrant(delta_chosen: float, delta_rejected: float) -> str:
    """Which way both log-probs moved from the reference (a change of 0 counts as up)."""
    c = "chosen fell" if delta_chosen < 0 else "chosen rose"
    r = "rejected fell" if delta_rejected < 0 else "rejected rose"
    return "both fell" if (delta_chosen < 0 and delta_rejected < 0) else f"{c}, {r}"


def dpo_delta_chart(df: pd.DataFrame, *, height: int = HEIGHT) -> alt.LayerChart:
    """Change in log-prob from the reference, chosen (x) vs rejected (y), one point per
    pair (rows: pair_id, delta_chosen, delta_rejected, quadrant), with rules at zero: the
    lower-left quadrant is "both fell"."""
    points = (
        alt.Chart(df)
        .mark_circle(size=40, opacity=0.7)
        .encode(
            x=alt.X("delta_chosen:Q", title="log pi - log ref, chosen"),
            y=alt.Y("delta_rejected:Q", title="log pi - log ref, rejected"),
            color=alt.Color(
                "quadrant:N",
                title=None,
                legend=alt.Legend(orient="top", labelLimit=0),
                scale=alt.Scale(range=list(palette.CATEGORIES)),
            ),
            tooltip=[
                "pair_id:Q",
                alt.Tooltip("delta_chosen:Q", format="+.3f"),
                alt.Tooltip("delta_rejected:Q", format="+.3f"),
                "quadrant:N",
            ],
        )
    )
    return alt.layer(points, *_axes_rules()).properties(height=height, width="container")


def agreement_label(rm_gap: float, dpo_gap: float) -> str:
    """The agreement quadrant of one pair (a gap of 0 prefers neither side)."""
    rm, dpo = rm_gap > 0, dpo_gap > 0
    if rm and dpo:
        return "both prefer chosen"
    if not rm and not dpo:
        return "neither prefers chosen"
    return "only the RM prefers chosen" if rm else "only DPO prefers chosen"


def agreement_chart(df: pd.DataFrame, *, height: int = HEIGHT) -> alt.LayerChart:
    """RM gap (x) vs DPO implicit-reward gap (y) per pair (rows: pair_id, rm_gap,
    dpo_gap, quadrant), rules at zero."""
    points = (
        alt.Chart(df)
        .mark_circle(size=40, opacity=0.7)
        .encode(
            x=alt.X("rm_gap:Q", title="RM gap (chosen - rejected)"),
            y=alt.Y("dpo_gap:Q", title="DPO implicit-reward gap"),
            color=alt.Color(
                "quadrant:N",
                title=None,
                legend=alt.Legend(orient="top", labelLimit=0),
                scale=alt.Scale(range=list(palette.CATEGORIES)),
            ),
            tooltip=[
                "pair_id:Q",
                alt.Tooltip("rm_gap:Q", format="+.4f"),
                alt.Tooltip("dpo_gap:Q", format="+.4f"),
                "quadrant:N",
            ],
        )
    )
    return alt.layer(points, *_axes_rules()).properties(height=height, width="container")


def edit_frames(summary: Mapping[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A probe summary (``db.read.probes.probe_summary``) as the frames of
    ``edit_change_chart`` and ``flip_rate_chart``, in the summary's order."""
    change, flips = [], []
    for e in summary.get("edits", []):
        m = e["mean_change"]
        change.append(
            {"edit": e["edit"], "mean": m["value"], "ci_low": m["ci_low"], "ci_high": m["ci_high"]}
        )
        for side in ("chosen", "rejected"):
            f = e[f"flip_rate_{side}"]
            flips.append(
                {
                    "edit": e["edit"],
                    "side": side,
                    "rate": f["value"],
                    "ci_low": f["ci_low"],
                    "ci_high": f["ci_high"],
                    "k": f["k"],
                    "n": f["n"],
                }
            )
    return pd.DataFrame(change), pd.DataFrame(flips)
