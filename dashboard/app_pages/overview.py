"""Overview: datasets (pairs, rejected rows and why), runs with status and progress,
checkpoints, and the headline numbers of every run."""

from __future__ import annotations

import streamlit as st

from dashboard import data, frames, tables, ui
from dashboard import diagnostic_data as dd


def first_headline(run: dict) -> dict | None:
    """The headline of a finished score or score_generations run (its first comparison)."""
    if run["kind"] not in ("score", "score_generations") or run["status"] != "done":
        return None
    found = dd.headlines(url, run["id"], frames.run_stamp(run))
    return found[0] if found else None


HEADLINE_GROUPS = [
    ("Score runs", ("score",)),
    ("Generation comparisons", ("score_generations",)),
    ("Training runs", ("train_rm", "train_dpo")),
    ("Other runs", None),
]

st.title("Overview")
url = ui.store_url()

datasets = data.datasets(url)
runs = data.runs(url)

st.subheader("Datasets")
if not datasets:
    st.info("No datasets yet: `preflens ingest PATH` (or `preflens demo`) adds one.")
else:
    ui.metric_row(
        [
            ("datasets", str(len(datasets))),
            ("pairs", str(sum(d["pairs"] for d in datasets))),
            ("rejected rows", str(sum(d["rejected"] for d in datasets))),
        ]
    )
    st.dataframe(frames.datasets_frame(datasets), hide_index=True, key="overview_datasets")
    reasons = frames.reasons_frame(datasets)
    st.caption("Rejected rows by reason (rows that could not be used, kept with why)")
    if reasons.empty:
        st.text("No rejected rows.")
    else:
        st.dataframe(reasons, hide_index=True, key="overview_reasons")

st.subheader("Runs")
if not runs:
    st.info("No runs yet: `preflens score`, `preflens train-rm`, ... write them.")
else:
    running = [r for r in runs if r["status"] in ("running", "pending")]
    ui.metric_row(
        [
            ("runs", str(len(runs))),
            ("running", str(len(running))),
            ("failed", str(sum(r["status"] == "failed" for r in runs))),
        ]
    )
    if running:
        st.caption("A running job's progress updates on refresh (reload the page, or Reload data).")
    tables.fitted_table(
        frames.runs_frame(runs),
        "overview_runs",
        ["id", "kind", "status", "progress", "dataset", "model"],
        column_config={
            "progress": st.column_config.ProgressColumn(
                "progress", min_value=0.0, max_value=1.0, format="percent"
            )
        },
    )

    st.subheader("Headline numbers")
    st.caption(
        "Score runs: accuracy (share of pairs with chosen > rejected), reward mean and std "
        "over both sides. Generation comparisons: A's win rate against B (ties half). "
        "'95% interval' (Wilson) and 'verdicts' belong to the accuracy or the win rate. "
        "Training runs: "
        "the last logged training loss (a mean over that logging window, at 'loss step') "
        "and the last accuracy measured on the eval split ('accuracy from' says which "
        "metric, split and step; a training window's accuracy is never shown here)."
    )
    rows = [
        frames.headline_row(
            r,
            data.run_summary(url, r["id"], frames.run_stamp(r)),
            first_headline(r),
        )
        for r in runs
    ]
    # One table per kind of run, each with only its own columns, so every column fits
    # on the page (one table of every column ran past the right edge).
    number = ("accuracy", "reward mean", "reward std", "gap mean", "win rate")
    number += ("mean diff", "last train loss", "eval accuracy")
    known = {k for _, group in HEADLINE_GROUPS if group for k in group}
    for title, group in HEADLINE_GROUPS:
        mine = [
            row
            for row, r in zip(rows, runs, strict=True)
            if (r["kind"] in group if group else r["kind"] not in known)
        ]
        if not mine:
            continue
        table = frames.headline_frame(mine)
        keep = [c for c in table.columns if c in ("run", "status") or table[c].notna().any()]
        st.caption(title)
        # A static table: its cells wrap, so long verdicts never push a column past the
        # right edge or get cut (a data grid keeps one line per cell).
        shown = (
            table[keep]
            .style.format({c: "{:.4f}" for c in number if c in keep}, na_rep="–")
            .hide(axis="index")
        )
        st.table(shown)

st.subheader("Checkpoints")
checkpoints = data.checkpoints(url)
if not checkpoints:
    st.caption("No checkpoints yet (`preflens train-rm` and `preflens train-dpo` write them).")
else:
    st.dataframe(frames.checkpoints_frame(checkpoints), hide_index=True, key="overview_ckpts")
