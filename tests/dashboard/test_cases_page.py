"""The Cases page as the end of "two clicks from a count to its pairs": links select
exactly the pairs counted (wrong, cut, flipped) with the number of matches shown, a
table view, search words marked safely, and a case opened where its card was."""

from __future__ import annotations

from dashboard import highlight
from dashboard.state import CaseQuery, cases_link
from db import read
from tests.dashboard.seed import XSS_IMG, XSS_SCRIPT
from tests.dashboard.test_pages import frame_with


def headers(at) -> list[int]:
    return [
        int(m.value.split("**")[1].split()[1]) for m in at.markdown if m.value.startswith("**Pair ")
    ]


def query_of(link: str) -> dict[str, str]:
    from urllib.parse import parse_qsl, urlsplit

    return dict(parse_qsl(urlsplit(link).query))


def test_a_wrong_pairs_link_lists_exactly_those_pairs_with_their_count(store, dash, open_page):
    run = dash.after_run
    link = cases_link(run=run, max_gap=0.0, limit=50)
    at = open_page("cases", query_of(link))
    with store() as s:
        summary = read.run_summary(s, run)
        every = read.search_cases(s, run, limit=500)["items"]
    wrong = sorted(i["pair_id"] for i in every if i["gap"] <= 0)
    assert len(wrong) == round(summary["pairs"] * (1 - summary["accuracy"]))
    assert sorted(headers(at)) == wrong
    assert any(f"cases 1-{len(wrong)} of {len(wrong)}" in c.value for c in at.caption)


def test_cut_and_flip_links_and_the_table_view(store, dash, open_page):
    before, after = dash.base.score_run, dash.after_run
    with store() as s:
        every = {i["pair_id"]: i for i in read.search_cases(s, before, limit=500)["items"]}
        later = {i["pair_id"]: i for i in read.search_cases(s, after, limit=500)["items"]}
    cut = sorted(p for p, i in every.items() if i["truncated_chosen"] or i["truncated_rejected"])
    at = open_page("cases", query_of(cases_link(run=before, cut=True, limit=50)))
    assert at.checkbox(key="cases_cut").value is True
    assert sorted(headers(at)) == cut
    assert any(f"of {len(cut)}," in c.value for c in at.caption)

    flips = sorted(p for p in later if p in every and every[p]["gap"] <= 0 < later[p]["gap"])
    link = cases_link(run=after, against=before, flip="wrong_to_right", limit=50, view="table")
    at = open_page("cases", query_of(link))
    table = frame_with(at, "pair", "gap", "chosen", "rejected", "score C", "category")
    assert sorted(table["pair"]) == flips
    assert all(g > 0 for g in table["gap"])
    assert any(f"from run {before} to this run" in i.value for i in at.info)
    # "Show every pair" drops the flip filter and keeps the rest.
    at.button(key="cases_all_pairs").click().run()
    assert "flip" not in at.query_params and at.query_params["view"] == "table"
    assert len(frame_with(at, "pair", "gap")) == min(50, len(later))


def test_the_wrong_pairs_button_sets_the_gap_filter(store, dash, open_page):
    at = open_page("cases", {"run": str(dash.after_run), "limit": "50"})
    at.button(key="cases_wrong").click().run()
    assert at.query_params["max_gap"] == "0.0"
    with store() as s:
        page = read.search_cases(s, dash.after_run, max_gap=0.0, limit=50)
    assert headers(at) == [i["pair_id"] for i in page["items"]]


def test_search_words_are_marked_and_model_markup_stays_text(store, dash, open_page):
    at = open_page("cases", {"run": str(dash.base.score_run), "q": "window"})
    html = [h.proto.body for h in at.get("html")]
    assert html and all("<mark" in h for h in html if "window" in h.lower())
    assert not any("<script" in h or "<img" in h for h in html)
    joined = "".join(html)
    assert "&lt;script&gt;" in joined  # the response's markup, shown as text


def test_open_in_full_shows_the_case_where_its_card_was(store, dash, open_page):
    run = dash.base.score_run
    at = open_page("cases", {"run": str(run)})
    shown = headers(at)
    third = shown[2]
    at.button(key=f"cases_open_{third}").click().run()
    assert at.query_params["case"] == str(third)
    # In page order: the third card's header, then that case in full, then the fourth card.
    flat = [str(getattr(e, "value", "")) for e in at.main if e.type in ("markdown", "subheader")]
    at_third = flat.index(next(v for v in flat if v.startswith(f"**Pair {third}**")))
    at_full = flat.index(f"Pair {third} in full")
    at_fourth = flat.index(next(v for v in flat if v.startswith(f"**Pair {shown[3]}**")))
    assert at_third < at_full < at_fourth
    assert headers(at) == shown  # every card still listed, none moved to the top
    assert f"Pair {third} in full" in [h.value for h in at.subheader]


def test_marked_html_escapes_before_marking():
    text = f"Kill it. {XSS_SCRIPT} {XSS_IMG} **bold** kill"
    out = highlight.marked_html(text, ["kill"])
    assert out.count("<mark") == 2 and ">Kill</mark>" in out and ">kill</mark>" in out
    assert "<script" not in out and "<img" not in out and "&lt;script&gt;" in out
    # A search word that is itself markup is matched in the text, still escaped.
    out = highlight.marked_html("a <b> c", ["<b>"])
    assert "&lt;b&gt;</mark>" in out and "<b>" not in out
    # A snippet keeps the first match in view and says where it was cut.
    long = "x" * 500 + " needle " + "y" * 500
    piece = highlight.snippet(long, ["needle"])
    assert "needle" in piece and piece.startswith("… ") and piece.endswith(" …")
    assert highlight.snippet("short", ["zzz"]) == "short"


def test_link_state_round_trips():
    link = cases_link(run=4, cut=True, against=2, flip="right_to_wrong", view="table")
    back = CaseQuery.from_params(query_of(link))
    assert (back.run, back.cut, back.against, back.flip, back.view) == (
        4,
        True,
        2,
        "right_to_wrong",
        "table",
    )
    # A flip without its run (or an unknown flip) is dropped, not half-applied.
    assert CaseQuery.from_params({"flip": "right_to_wrong"}).flip is None
    assert CaseQuery.from_params({"against": "2", "flip": "sideways"}).against is None


def links_in(at) -> dict[str, str]:
    """Markdown links on the page: text -> target."""
    import re

    found = {}
    for m in at.markdown:
        for text, target in re.findall(r"\[([^\]]+)\]\((cases\?[^)]+)\)", m.value):
            found[text] = target
    return found


def test_reward_model_counts_link_to_exactly_their_pairs(store, dash, open_page):
    at = open_page("reward_model")
    run = at.selectbox(key="rm_run").value
    with store() as s:
        every = read.search_cases(s, run, limit=500)["items"]
    wrong = [i for i in every if i["gap"] <= 0]
    cut = [i for i in every if i["truncated_chosen"] or i["truncated_rejected"]]
    links = links_in(at)
    assert links[f"{len(wrong)} wrong pairs (gap <= 0)"] == cases_link(run=run, max_gap=0.0)
    assert links[f"{len(cut)} pairs with a side cut at max length"] == cases_link(run=run, cut=True)


def test_diagnostics_flips_link_to_cases_and_list_their_texts(store, dash, app_env):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import REPO

    before, after = dash.base.score_run, dash.after_run
    at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=90)
    at.run()
    at.switch_page("app_pages/diagnostics.py")
    at.session_state["diag_run"] = after
    at.session_state["diag_against"] = before
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    with store() as s:
        a = {i["pair_id"]: i for i in read.search_cases(s, before, limit=500)["items"]}
        b = {i["pair_id"]: i for i in read.search_cases(s, after, limit=500)["items"]}
    w2r = sorted(p for p in b if p in a and a[p]["gap"] <= 0 < b[p]["gap"])
    links = links_in(at)
    target = cases_link(run=after, against=before, flip="wrong_to_right")
    assert links[f"{len(w2r)} wrong -> right"] == target
    flips = frame_with(at, "flip", "prompt", "chosen", "rejected", "gap, this run")
    assert sorted(flips.loc[flips["flip"] == "wrong -> right", "pair_id"]) == w2r
    row = flips.iloc[0]
    assert row["gap, this run"] == b[row["pair_id"]]["gap"]
    assert row[f"gap, run {before}"] == a[row["pair_id"]]["gap"]
    assert row["chosen"] == b[row["pair_id"]]["chosen"]
    wrong = frame_with(at, "pair_id", "p_chosen", "chosen", "rejected")
    assert all(g <= 0 for g in wrong["gap"]) and wrong["rejected"].notna().all()
