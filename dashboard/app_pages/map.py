"""Map: a score run's pairs in 2D, in the reward model's own representation, with named
clusters (``preflens map``; the JSON twin is ``GET /v1/runs/{id}/map``).

Points are right (gap > 0) or wrong pairs, or coloured by gap; each cluster's name (its
most distinctive prompt terms, c-TF-IDF) is written where its points are; hovering shows
the prompt. Clicking a point links that pair and its cluster to Cases; the table lists the
clusters worst accuracy first, each opening its pairs in Cases."""

from __future__ import annotations

from typing import Any

import streamlit as st
from sqlalchemy.orm import Session

from dashboard import data, frames, map_charts, ui
from dashboard.state import cases_link
from db.read import maps as reads


@st.cache_data(ttl=data.TTL, max_entries=data.MAX_ENTRIES, show_spinner=False)
def _read(url: str, name: str, stamp: str, *args: Any) -> Any:
    """One ``db.read.maps`` function's result, cached per state (``stamp``)."""
    with Session(data.engine(url)) as session:
        return getattr(reads, name)(session, *args)


st.title("Map")
url = ui.store_url()
mapped = set(_read(url, "mapped_runs", "runs"))
score_runs = [r for r in ui.runs_of(url, "score") if r["id"] in mapped]
if not score_runs:
    st.info(
        "No map yet. Score with the states kept, then map the run: "
        "`preflens score --dataset D --keep-states`, then `preflens map RUN`."
    )
    st.stop()
run = ui.pick_run("Score run", score_runs, key="map_run", default_id=score_runs[0]["id"])
view = _read(url, "map_view", frames.run_stamp(run) + str(len(mapped)), run["id"])
points = map_charts.points_frame(view)
st.caption(
    f"{view['n']} pairs mapped: {view['representation']} representation "
    f"({'chosen - rejected' if view['representation'] == 'diff' else 'state vectors'}), "
    f"{view['method'].upper()} projection, {view['clusterer']} clusters, made "
    f"{view['created_at'][:19].replace('T', ' ')} UTC."
    + (
        f" Drawing a seeded sample of {len(points)} of {view['points_total']} pairs."
        if view["sampled"]
        else ""
    )
)
color_by = st.radio(
    "Colour by",
    list(map_charts.COLOR_BY),
    format_func=map_charts.COLOR_BY.get,
    horizontal=True,
    key="map_color",
)
event = st.altair_chart(
    map_charts.map_chart(points, map_charts.labels_frame(points), color_by=color_by),
    width="stretch",
    on_select="rerun",
    key="map_chart",
)
st.caption("Hover a point to read its prompt; click one to open it and its cluster in Cases.")
picked = [p.get("pair_id") for p in (event.selection.get("pair") or [])] if event else []
if picked and picked[0] is not None:
    pair_id = int(picked[0])
    row = points[points["pair_id"] == pair_id]
    if not row.empty:
        cluster = int(row["cluster"].iloc[0])
        st.markdown(
            f"Pair {pair_id}: [open in Cases]({cases_link(run=run['id'], case=pair_id)}) · "
            f"[its cluster in Cases]({cases_link(run=run['id'], cluster=cluster)})"
        )

st.subheader("Clusters, worst accuracy first")
table = map_charts.clusters_frame(view)
table["open"] = [cases_link(run=run["id"], cluster=int(c)) for c in table["cluster"]]
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    column_config={
        "open": st.column_config.LinkColumn("pairs", display_text="open in Cases"),
    },
)
st.caption(
    "Accuracy: gap > 0 counts right, a tie wrong (Wilson 95% interval). Gap mean: normal "
    "95% interval. Chosen longer: share of pairs whose chosen response has more "
    "characters (Wilson 95%). Names: each cluster's most distinctive prompt terms "
    "(c-TF-IDF against the other clusters)."
)
