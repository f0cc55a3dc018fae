"""The Cases page sorted by suspicion: cards in the order the suspects read ranks the
run's dataset, each showing its suspicion and signal count; the sort lives in the URL."""

from __future__ import annotations

from dashboard.state import CaseQuery, cases_link
from db import read
from db.read.suspects import suspects
from db.schema import Dataset, Run
from tests.dashboard.test_cases_page import headers, query_of
from tests.dashboard.test_pages import frame_with


def test_cases_sorted_by_suspicion_show_the_suspects_order(store, dash, open_page):
    run = dash.base.score_run
    link = cases_link(run=run, sort="suspicion", limit=20)
    assert CaseQuery.from_params(query_of(link)).sort == "suspicion"
    with store() as s:
        name = s.get(Dataset, s.get(Run, run).dataset_id).name
        ranked = suspects(s, name, limit=500)["suspects"]
        in_run = {i["pair_id"] for i in read.search_cases(s, run, limit=500)["items"]}
    at = open_page("cases", query_of(link))
    assert at.radio(key="cases_sort").value == "suspicion"
    shown = headers(at)
    assert len(shown) == 20 and len(in_run) > 20
    assert shown == [r["pair_id"] for r in ranked if r["pair_id"] in in_run][:20]
    first = ranked[0] if ranked[0]["pair_id"] == shown[0] else None
    assert first is not None
    card = next(m.value for m in at.markdown if m.value.startswith(f"**Pair {shown[0]}**"))
    signals = first["signals"]
    assert f"suspicion **{first['suspicion']:.3f}** ({signals} signal" in card
    # The table view carries the same two numbers per row.
    at = open_page("cases", query_of(cases_link(run=run, sort="suspicion", view="table")))
    table = frame_with(at, "pair", "suspicion", "signals")
    by_id = {r["pair_id"]: r for r in ranked}
    for pair, value, n in zip(table["pair"], table["suspicion"], table["signals"], strict=True):
        assert abs(value - by_id[pair]["suspicion"]) < 1e-12 and n == by_id[pair]["signals"]
