"""Reward model: one score run's chosen and rejected score distributions, the gap, CDFs,
box plots, accuracy / mean / std and accuracy per category; and two runs (before vs
after training) side by side on the same axes."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import charts, data, frames, tables, ui
from dashboard import diagnostic_data as dd
from dashboard.frames import fmt, fmt_pct
from dashboard.state import cases_link

st.title("Reward model")
url = ui.store_url()
score_runs = ui.runs_of(url, "score")
ui.need(
    bool(score_runs),
    "No score runs yet: `preflens score --model M --dataset D` (or `preflens demo`) makes one.",
)


def views(run: dict[str, Any], bins: int, lo: float | None, hi: float | None) -> dict[str, Any]:
    """Everything the page draws for one run, each from one cached ``db.read`` call."""
    rid, stamp = run["id"], frames.run_stamp(run)
    return {
        "summary": data.run_summary(url, rid, stamp),
        "hist": {
            side: data.histogram(url, rid, stamp, side, bins, lo, hi)
            for side in ("chosen", "rejected")
        },
        "cdf": {side: data.cdf(url, rid, stamp, side) for side in ("chosen", "rejected", "gap")},
    }


def box_of(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    stamp = frames.run_stamp(run)
    return {side: data.box(url, run["id"], stamp, side) for side in ("chosen", "rejected", "gap")}


left, right = st.columns([3, 1])
with left:
    run = ui.pick_run(
        "Score run",
        score_runs,
        key="rm_run",
        default_id=ui.first_done(score_runs),
        help="scores of chosen and rejected responses by one reward model",
    )
with right:
    bins = st.slider("Bins", 10, 100, 40, step=5, key="rm_bins")

boxes = box_of(run)
if not boxes["gap"].get("n"):
    st.info("This run has no scored pairs yet.")
    st.stop()
span = frames.common_range([boxes["chosen"], boxes["rejected"]])
view = views(run, bins, *span)
summary = view["summary"]
stamp = frames.run_stamp(run)
gap_hist = data.histogram(url, run["id"], stamp, "gap", bins)

accuracy = dd.headlines(url, run["id"], stamp)[0]
max_length = (run.get("config") or {}).get("max_length")
left, mid, right = st.columns([2, 1, 2])  # room for the labels at 1024 px
with left:
    ui.headline_tile(
        accuracy,
        help="share of pairs with score(chosen) > score(rejected) (a tie counts wrong); "
        "verdicts compare the 95% interval with chance (0.5) and with the better length "
        "baseline (longer or shorter response wins) on the same pairs",
    )
mid.metric("pairs", str(summary["pairs"]))
right.metric(
    "sides cut at max length",
    f"{summary['truncated_responses']} of {2 * summary['pairs']}",
    help="responses (chosen and rejected sides) whose conversation, as scored, was cut "
    f"to the run's max length of {max_length or '?'} conversation tokens (the end kept)",
)
ui.metric_row(
    [
        ("reward mean", fmt(summary["reward_mean"])),
        ("reward std", fmt(summary["reward_std"])),
        ("chosen mean", fmt(summary["chosen_mean"])),
        ("rejected mean", fmt(summary["rejected_mean"])),
        ("gap mean", fmt(summary["gap_mean"])),
    ],
    help={
        "reward mean": "mean over both sides (chosen and rejected)",
        "reward std": "standard deviation over both sides (a spread, not an uncertainty)",
    },
)
# Every count of wrong or cut pairs opens exactly those pairs in Cases.
n_wrong = data.cases(url, run["id"], stamp, max_gap=0.0, limit=1)["total"]
n_cut = data.cases(url, run["id"], stamp, cut=True, limit=1)["total"]
st.markdown(
    f"Open in Cases: [{n_wrong} wrong pairs (gap <= 0)]"
    f"({cases_link(run=run['id'], max_gap=0.0)}) · "
    f"[{n_cut} pairs with a side cut at max length]({cases_link(run=run['id'], cut=True)})"
)
if run["status"] != "done":
    st.caption(f"Run status: {run['status']} ({fmt_pct(run['progress'])} scored so far).")

hist = pd.concat([frames.hist_frame(view["hist"][s], s) for s in ("chosen", "rejected")])
tie = pd.DataFrame({"label": ["tie"], "x": [0.0]})
col1, col2 = st.columns(2)
with col1:
    ui.chart(charts.histogram_chart(hist, title="Chosen and rejected scores", x_title="score"))
with col2:
    picked = st.altair_chart(
        charts.wrap_title(
            charts.histogram_chart(
                frames.hist_frame(gap_hist, "gap"),
                title="Gap (chosen - rejected): right of 0 is correct",
                x_title="gap",
                rules=tie,
                select=True,
            )
        ),
        width="stretch",
        on_select="rerun",
        key="rm_gap_bins",
    )
    chosen_bin = (picked.selection.get("bin") or [None])[0] if picked else None
    if chosen_bin:  # a clicked bar: its pairs, one click away
        lo, hi = float(chosen_bin["bin_start"]), float(chosen_bin["bin_end"])
        link = cases_link(run=run["id"], min_gap=lo, max_gap=hi, sort="gap_asc")
        st.markdown(f"[Open the pairs with a gap from {lo:.4f} to {hi:.4f} in Cases]({link})")
    else:
        st.caption("Click a bar to open its pairs in Cases.")
col1, col2 = st.columns(2)
with col1:
    cdf = pd.concat([frames.cdf_frame(view["cdf"][s], s) for s in ("chosen", "rejected")])
    ui.chart(charts.cdf_chart(cdf, title="CDF of chosen and rejected scores"))
with col2:
    box = frames.box_frame((s, boxes[s]) for s in ("chosen", "rejected", "gap"))
    ui.chart(charts.box_chart(box, title="Box plots (whiskers: 1.5 IQR; diamond: mean)"))
tables.fitted_table(box, "rm_box", ["series", "n", "mean", "q1", "median", "q3"])

st.subheader("Accuracy per category")
cats = frames.category_frame(summary, frames.run_label(run))
if cats.empty:
    st.text("No categories in this run.")
else:
    ui.chart(charts.category_chart(cats))
    st.dataframe(cats, hide_index=True, key="rm_categories")

# ------------------------------------------------------------------ two runs
st.subheader("Two runs side by side")
# Only runs on the same pairs are offered; the before/after partner is the default.
options = dd.comparison_options(url, run["id"], f"{frames.run_stamp(run)}:{len(score_runs)}")
partner = options["partner"] or {}
partner_id, role, partner_role = (
    partner.get("run"),
    partner.get("role", ""),
    partner.get("partner_role", ""),
)
by_id = {r["id"]: r for r in score_runs}
others = [by_id[i] for i in options["comparable"] if i in by_id]
if not others:
    st.text(
        f"No other score run on the same pairs ({run.get('dataset')}, split "
        f"{run.get('split') or 'all'}): score another (e.g. after training) to compare."
    )
    st.stop()
if st.session_state.get("rm_other_of") != run["id"]:  # a new run: compare with its partner
    st.session_state.pop("rm_other", None)
    st.session_state["rm_other_of"] = run["id"]
other = ui.pick_run(
    "Compare with",
    others,
    key="rm_other",
    default_id=partner_id,
    help="by default the other half of a training run's before/after pair",
)
if other["id"] != partner_id:
    role, partner_role = "", ""
label = f"#{run['id']}" + (f" ({role})" if role else "")
other_label = f"#{other['id']}" + (f" ({partner_role})" if partner_role else "")
other_boxes = box_of(other)
if not other_boxes["gap"].get("n"):
    st.text("That run has no scored pairs yet.")
    st.stop()
both = [boxes["chosen"], boxes["rejected"], other_boxes["chosen"], other_boxes["rejected"]]
lo, hi = frames.common_range(both)
glo, ghi = frames.common_range([boxes["gap"], other_boxes["gap"]])
other_stamp = frames.run_stamp(other)
pair = [(run, label, stamp), (other, other_label, other_stamp)]
side_hists = pd.concat(
    frames.hist_frame(data.histogram(url, r["id"], rs, side, bins, lo, hi), side).assign(run=lab)
    for r, lab, rs in pair
    for side in ("chosen", "rejected")
)
gap_hists = pd.concat(
    frames.hist_frame(data.histogram(url, r["id"], rs, "gap", bins, glo, ghi), lab)
    for r, lab, rs in pair
)
other_summary = data.run_summary(url, other["id"], other_stamp)
tables.fitted_table(
    frames.score_table([(label, summary), (other_label, other_summary)]),
    "rm_compare_table",
    ["run", "pairs", "accuracy", "gap_mean"],
    column_config={"run": st.column_config.TextColumn("run", width="medium")},
)
# One chart per run in two columns (one chart of two panels ran past a narrow column),
# on the same bins and the same count axis.
top = float(side_hists["count"].max()) if len(side_hists) else None
for col, lab in zip(st.columns(2), dict.fromkeys(side_hists["run"]), strict=False):
    with col:
        ui.chart(
            charts.histogram_chart(
                side_hists[side_hists["run"] == lab],
                title=f"Chosen and rejected scores of {lab} (same bins and axes)",
                y_max=top,
            )
        )
col1, col2 = st.columns(2)
with col1:
    ui.chart(charts.histogram_chart(gap_hists, title="Gap of both runs", x_title="gap", rules=tie))
with col2:
    gap_cdfs = pd.concat(
        [
            frames.cdf_frame(view["cdf"]["gap"], label),
            frames.cdf_frame(data.cdf(url, other["id"], other_stamp, "gap"), other_label),
        ]
    )
    ui.chart(charts.cdf_chart(gap_cdfs, x_title="gap", title="CDF of the gap"))
cats = pd.concat(
    [frames.category_frame(summary, label), frames.category_frame(other_summary, other_label)]
)
if not cats.empty:
    ui.chart(charts.category_chart(cats, title="Accuracy per category, both runs"))
