"""Training: per-step curves of reward-model runs (loss, accuracy, eval accuracy, learning
rate, margin) and DPO runs (loss, chosen / rejected implicit rewards, margins,
accuracies), several runs on one chart."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, data, frames, ui

# (chart title, metric names drawn together); a chart shows whichever exist.
GROUPS = [
    ("Loss", "loss", ["train/loss", "eval/loss"]),
    ("RM accuracy (chosen scored above rejected)", "accuracy", ["train/accuracy", "eval/accuracy"]),
    ("RM margin (chosen - rejected score)", "margin", ["train/margin"]),
    ("DPO implicit rewards", "reward", ["train/rewards/chosen", "train/rewards/rejected"]),
    ("DPO reward margins", "margin", ["train/rewards/margins"]),
    ("DPO reward accuracies", "accuracy", ["train/rewards/accuracies"]),
    ("DPO log-probs", "log-prob", ["train/logps/chosen", "train/logps/rejected"]),
    ("Learning rate", "learning rate", ["train/learning_rate"]),
]
GROUPED = {name for _, _, names in GROUPS for name in names}

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

present = set(df["metric"])
drawn = [(title, unit, [n for n in names if n in present]) for title, unit, names in GROUPS]
drawn = [(title, unit, names) for title, unit, names in drawn if names]
for i in range(0, len(drawn), 2):
    for col, (title, unit, names) in zip(st.columns(2), drawn[i : i + 2], strict=False):
        with col:
            rows = df[df["metric"].isin(names)]
            ui.chart(charts.metric_chart(rows, title=title, y_title=unit))

extra = sorted(present - GROUPED)
if extra:
    picked = st.multiselect("Other metrics", extra, key="train_extra")
    for name in picked:
        ui.chart(charts.metric_chart(df[df["metric"] == name], title=name))

st.subheader("Last values")
summaries = [(labels[r["id"]], data.run_summary(url, r["id"], frames.run_stamp(r))) for r in runs]
st.dataframe(frames.last_values_frame(summaries), hide_index=True, key="train_last")
