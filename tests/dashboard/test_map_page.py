"""The Map page through AppTest on a mapped two-topic run: the points and cluster names it
draws are the ones db.read.maps.map_view returns, clusters are listed worst first and each
opens its pairs in Cases; a run without a map says what to run."""

from __future__ import annotations

import json

from db.read.maps import map_view
from tests.map_seed import two_topic_store
from training.jobs.map_pairs import run_map_job

PAGE = "app_pages/map.py"


def _open():
    from streamlit.testing.v1 import AppTest

    from tests.dashboard.conftest import APP

    at = AppTest.from_file(str(APP), default_timeout=90)
    at.run()
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _chart_data(at):
    from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df

    (el,) = at.get("vega_lite_chart")
    spec = json.loads(el.proto.spec)
    return spec, [convert_arrow_bytes_to_pandas_df(d.data.data) for d in el.proto.datasets]


def test_map_page_without_a_map_says_what_to_run(store, app_env):
    two_topic_store(store, 5)
    at = _open()
    assert at.info and "preflens map" in at.info[0].value


def test_map_page_draws_the_stored_map(store, app_env):
    run_id, topic_of = two_topic_store(store, 20)
    run_map_job(store, run_id, method="pca", k=2)
    with store() as s:
        view = map_view(s, run_id)
    at = _open()
    spec, datasets = _chart_data(at)
    points = next(d for d in datasets if "pair_id" in d.columns)
    labels = next(d for d in datasets if "pair_id" not in d.columns)
    assert sorted(points["pair_id"]) == sorted(p["pair_id"] for p in view["points"])
    assert set(labels["cluster_name"]) == {c["name"] for c in view["clusters"]}
    wrong = {p["pair_id"] for p in view["points"] if not p["correct"]}
    assert set(points.loc[points["verdict"] == "wrong", "pair_id"]) == wrong
    (table,) = [d.value for d in at.dataframe if "accuracy [95% CI]" in d.value.columns]
    assert list(table["cluster"]) == [c["id"] for c in view["clusters"]]  # worst first
    assert all(
        f"cluster={c}" in link for c, link in zip(table["cluster"], table["open"], strict=True)
    )
    at.radio(key="map_color").set_value("gap").run()
    spec, _ = _chart_data(at)
    assert "gap" in json.dumps(spec["layer"][0]["encoding"]["color"])
