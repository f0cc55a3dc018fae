"""Suspects: a dataset's pairs ranked by how likely their label is wrong, from every
finished score and score_dpo run on them, each with its flag; open a pair in Cases or flag
it here (flags go through the backend). The JSON twin:
``GET /v1/datasets/{name}/suspects``."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import fix_data, flag_widget, tables, ui
from dashboard.state import cases_link
from preflens.errors import PrefLensError

st.title("Likely mislabelled pairs")
url = ui.store_url()
signal_runs = ui.runs_of(url, "score", "score_dpo")
ui.need(bool(signal_runs), "No score runs yet: `preflens score` a dataset first.")
datasets = {r["dataset_id"]: r.get("dataset") for r in signal_runs if r["dataset_id"]}
ds_id = st.selectbox(
    "Dataset", list(datasets), format_func=lambda i: str(datasets[i]), key="sus_dataset"
)
mine = [r for r in signal_runs if r["dataset_id"] == ds_id]
splits = sorted({r["split"] for r in mine if r.get("split")})
left, right = st.columns(2)
split = left.selectbox("Split", [None, *splits], format_func=lambda s: s or "all", key="sus_split")
limit = right.select_slider("Pairs shown", [20, 50, 100, 200, 500], value=50, key="sus_limit")
stamp = ";".join(f"{r['id']}:{r['status']}:{r.get('updated_at')}" for r in mine)
try:
    d = fix_data.suspects(url, ds_id, split, limit, stamp)
except PrefLensError as exc:
    st.warning(str(exc))
    st.stop()

st.caption(
    f"Suspicion = {d['statistic']}. {d['total']} pairs have at least one signal; "
    f"the {len(d['suspects'])} most suspicious are listed, highest first."
)
st.dataframe(
    pd.DataFrame(d["runs"]),
    hide_index=True,
    key="sus_runs",
    column_config={"temperature": st.column_config.NumberColumn("T (fitted)", format="%.3g")},
)
for r in d.get("skipped", []):
    st.caption(
        f"Left out: run {r['run']} ({r.get('model') or '-'}, {r['pairs']} pairs): {r['reason']}."
    )
score_runs = [r["run"] for r in d["runs"] if r["kind"] == "score"]
rows = pd.DataFrame(d["suspects"])
if rows.empty:
    st.info("No pairs to rank.")
    st.stop()
if score_runs:
    rows["open"] = [cases_link(run=score_runs[-1], case=int(p)) for p in rows["pair_id"]]
    # The listed pairs together, in Cases, with how many match.
    listed = ",".join(str(int(p)) for p in rows["pair_id"])
    link = cases_link(run=score_runs[-1], pairs=listed)
    st.markdown(f"[Open these {len(rows)} pairs in Cases]({link}) (run {score_runs[-1]}).")
columns = ["rank", "pair_id", "suspicion", "signals", "runs_against", "flag", "category"]
columns += ["split", "prompt", "chosen", "rejected"] + (["open"] if score_runs else [])
tables.fitted_table(
    rows[columns],
    "sus_table",
    ["rank", "pair_id", "suspicion", "runs_against", "flag", "open"],
    column_config={
        "suspicion": st.column_config.NumberColumn(
            "suspicion", help="mean P(labelled-rejected is better) over signals", format="%.3f"
        ),
        "signals": st.column_config.NumberColumn("signals", help="runs that scored the pair"),
        "runs_against": st.column_config.NumberColumn(
            "runs against", help="signals with gap < 0 (a tie is no vote)"
        ),
        "open": st.column_config.LinkColumn("open in Cases"),
        **{c: st.column_config.TextColumn(c, width="medium") for c in ("prompt", "chosen")},
    },
)
st.subheader("Flag a pair")
pair_id = st.selectbox("Pair", rows["pair_id"].tolist(), key="sus_pair")
flag_widget.flag_panel(url, int(pair_id), "sus")
