"""The Over training page through AppTest on seeded runs: the numbers it draws are the
ones db.read.series / db.read.bon return (the JSON twins), and its links open Cases."""

from __future__ import annotations

import json

import pytest

from db.read.bon import bon_summary
from db.read.series import series
from tests.over_seed import seed_bon, seed_series

PAGE = "app_pages/over_training.py"


def _open(query=None):
    from streamlit.testing.v1 import AppTest

    from tests.dashboard.conftest import APP

    at = AppTest.from_file(str(APP), default_timeout=90)
    at.run()
    at.switch_page(PAGE)
    if query:
        at.query_params = query
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _charts(at) -> dict[str, list]:
    from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df

    out = {}
    for el in at.get("vega_lite_chart"):
        spec = json.loads(el.proto.spec)
        title = spec.get("title")
        title = " ".join(title["text"]) if isinstance(title, dict) else title
        out[title] = [convert_arrow_bytes_to_pandas_df(d.data.data) for d in el.proto.datasets]
    return out


def test_series_and_bon_views_show_the_read_numbers(store, app_env):
    train_id, score_ids = seed_series(store)
    bon_id, _, _ = seed_bon(store)
    with store() as s:
        want = series(s, train_id)
        bon = bon_summary(s, bon_id)
    at = _open()
    charts = _charts(at)
    (acc,) = [d for d in charts["Held-out accuracy per step (Wilson 95%)"] if "value" in d]
    assert list(acc["step"]) == [0, 5, 10, 15]
    assert list(acc["value"]) == pytest.approx([p["accuracy"]["value"] for p in want["points"]])
    assert list(acc["low"]) == pytest.approx([p["accuracy"]["ci_low"] for p in want["points"]])
    (changes,) = charts["Pairs learned and forgotten since the previous step"]
    learned = changes[changes["change"] == "learned"]["pairs"].tolist()
    assert learned == [p["vs_previous"]["learned"] for p in want["points"][1:]]
    links = " ".join(m.value for m in at.markdown)
    assert f"cases?run={score_ids[1]}&against={score_ids[0]}&flip=wrong_to_right" in links
    specs = {}
    for el in at.get("vega_lite_chart"):
        spec = json.loads(el.proto.spec)
        title = spec.get("title")
        specs[" ".join(title["text"]) if isinstance(title, dict) else title] = spec
    traj = specs["Gap per step of the selected pairs (above 0: right)"]
    assert '"name": "pair"' in json.dumps(traj.get("params", []))  # points selectable
    assert "Click a point" in " ".join(c.value for c in at.caption)
    best = want["best"]
    assert any(f"best step ({best['step']})" in m.label for m in at.metric)
    # Best-of-N tab: both curves on one chart, the values of bon_summary
    (bon_rows,) = [
        d for d in charts["Best-of-k: proxy and gold reward of the proxy's pick"] if "curve" in d
    ]
    gold = bon_rows[bon_rows["curve"] == "gold"]["value"].tolist()
    assert gold == pytest.approx([iv["value"] for iv in bon["curves"]["gold"]])
    assert set(bon_rows["curve"]) == {"proxy", "gold"}


def test_empty_store_says_how_to_make_a_series(store, app_env):
    at = _open()
    infos = " ".join(i.value for i in at.info)
    assert "--eval-every" in infos and "preflens bon" in infos


def test_overview_lists_series_and_bon_runs(store, app_env):
    from tests.dashboard.conftest import APP

    seed_series(store)
    seed_bon(store)
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=90)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    kinds = {k for t in at.table for k in t.value.get("kind", [])}
    kinds |= {k for d in at.dataframe for k in d.value.get("kind", [])}
    assert {"bon", "bon_score", "train_rm"} <= kinds
