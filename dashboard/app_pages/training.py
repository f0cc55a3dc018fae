"""Training: per-step curves of reward-model runs (loss, accuracy, margin, learning rate)
and DPO-family runs (loss, rewards of both sides named by the run's loss type, margins,
accuracies, log-probs), each kind on its own charts, train and eval series side by side,
several runs of a kind on one chart.
What each chart draws is worked out in ``dashboard.curves``."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, curves, data, frames, tables, ui

st.title("Training")
url = ui.store_url()
train_runs = ui.runs_of(url, "train_rm", "train_dpo")
ui.need(
    bool(train_runs),
    "No training runs yet: `preflens train-rm` or `preflens train-dpo` writes their curves.",
)
by_id = {r["id"]: r for r in train_runs}
if "train_runs" not in st.session_state:
    latest = {}
    for r in train_runs:  # newest first: the latest run of each kind
        latest.setdefault(r["kind"], r["id"])
    st.session_state["train_runs"] = list(latest.values())
chosen = st.multiselect(
    "Training runs",
    list(by_id),
    key="train_runs",
    format_func=lambda i: frames.run_label(by_id[i]),
    help="each run is one colour on every chart",
)
ui.need(bool(chosen), "Pick one or more training runs.")
runs = [by_id[i] for i in chosen]
labels = {r["id"]: f"#{r['id']} {r['kind']} {r['model'] or ''}".strip() for r in runs}
result = data.metrics(url, tuple(chosen), tuple(frames.run_stamp(r) for r in runs))
df = frames.metrics_frame(result, labels)
if df.empty:
    st.info("These runs have no metrics yet (they appear at the first logging step).")
    st.stop()
running = [r for r in runs if r["status"] in ("running", "pending")]
if running:
    st.caption("A run is still training: reload the page to see new steps.")

st.caption(
    "Lines: solid with circles = train (a mean over each logging window), dashed with "
    "squares = eval (the eval split, at each evaluation). Chosen is always green, "
    "rejected red; every other colour is a run, the same on every page. Reward-model "
    "runs and each DPO-family loss have their own charts; dashed grey lines mark chance "
    "(a loss of ln 2 = 0.693, an accuracy of 0.5)."
)
drawn = curves.training_curves(df, {labels[r["id"]]: r for r in runs})
for i in range(0, len(drawn), 2):
    for col, curve in zip(st.columns(2), drawn[i : i + 2], strict=False):
        with col:
            figure = charts.metric_chart(
                curve.rows, title=curve.title, y_title=curve.y_title, reference=curve.reference
            )
            ui.chart(figure)
            if curve.caption:
                st.caption(curve.caption)

extra = curves.other_metrics(df)
if extra:
    picked = st.multiselect("Other metrics", extra, key="train_extra")
    for name in picked:
        rows = curves.split_names(df[df["metric"] == name])
        ui.chart(charts.metric_chart(rows.assign(series=rows["run"]), title=name))

st.subheader("Last values")
summaries = [(labels[r["id"]], data.run_summary(url, r["id"], frames.run_stamp(r))) for r in runs]
tables.fitted_table(
    frames.last_values_frame(summaries),
    "train_last",
    ["run", "metric", "last_step", "last"],
    column_config={"run": st.column_config.TextColumn("run", width="medium")},
)
