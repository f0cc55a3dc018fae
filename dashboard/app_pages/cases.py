"""Cases: a run's pairs (chosen vs rejected) or a generation comparison's prompts
(policy A vs policy B), filtered by score gap, category, split, text, cut at a length
limit and flips against another run, sorted by largest gap, smallest gap or closest to
zero, a page at a time, with the number of matches. Shown as cards (prompt and both
responses side by side, search words marked) or as one sortable table; a case opens in
full where it was clicked. The page's state lives in the URL, so a view or one case can
be shared as a link, and every count of wrong, cut or flipped pairs elsewhere links here.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import streamlit as st

from dashboard import case_table, case_view, cases_bon, data, frames, highlight, tables, ui
from dashboard.frames import fmt_signed, md_escape
from dashboard.state import (
    FLIPS,
    PAGE_SIZES,
    SCORE_RUN_SORTS,
    SORTS,
    VIEWS,
    CaseQuery,
    parse_float,
)
from preflens.errors import PrefLensError

st.title("Cases")
url = ui.store_url()
if cases_bon.wanted(st.query_params.to_dict()):  # best-of-N picks beside a random sample
    cases_bon.show(url, st.query_params.to_dict())
    st.stop()
scored = ui.runs_of(url, "score", "score_generations")
ui.need(bool(scored), "No scored runs yet: `preflens score` or `preflens score-generations`.")
by_id = {r["id"]: r for r in scored}
linked = CaseQuery.from_params(st.query_params.to_dict())


def seed(key: str, value: Any, options: list | None = None) -> None:
    """Start a widget from the URL when this session has no value for it yet."""
    if key not in st.session_state and value is not None:
        if options is None or value in options:
            st.session_state[key] = value


# ------------------------------------------------------------------ filters
run = ui.pick_run(
    "Run",
    scored,
    key="cases_run",
    default_id=linked.run if linked.run in by_id else ui.first_done(scored, "score"),
    help="a score run (chosen vs rejected) or a generation comparison (policy A vs B)",
)
stamp = frames.run_stamp(run)
dataset = next((d for d in data.datasets(url) if d["id"] == run["dataset_id"]), None)
a = b = None
if run["kind"] == "score_generations":
    summary = data.run_summary(url, run["id"], stamp)  # its policies and comparisons
    names = list((summary.get("policies") or {}).keys())
    ui.need(len(names) >= 2, "This run has answers of fewer than two policies so far.")
    first = (summary.get("comparisons") or [{"a": names[-1], "b": names[0]}])[0]
    col1, col2 = st.columns(2)
    seed("cases_a", linked.a or first["a"], names)
    seed("cases_b", linked.b or first["b"], names)
    a = col1.selectbox("Policy A", names, key="cases_a")
    b = col2.selectbox("Policy B", names, key="cases_b")
    ui.need(a != b, "Pick two different policies.")

categories = sorted(c for c in (dataset or {}).get("categories", {}) if c != "(none)")
splits = sorted((dataset or {}).get("splits", {}))
col1, col2, col3, col4 = st.columns(4)
seed("cases_min_gap", None if linked.min_gap is None else repr(linked.min_gap))
seed("cases_max_gap", None if linked.max_gap is None else repr(linked.max_gap))
seed("cases_category", linked.category, categories)
seed("cases_split", linked.split, splits)
min_text = col1.text_input("Gap at least", key="cases_min_gap", placeholder="e.g. -0.5")
max_text = col2.text_input("Gap at most", key="cases_max_gap", placeholder="e.g. 0.5")
category = col3.selectbox(
    "Category", [None, *categories], key="cases_category", format_func=lambda c: c or "(any)"
)
split = col4.selectbox(
    "Split", [None, *splits], key="cases_split", format_func=lambda s: s or "(any)"
)
for raw, where in ((min_text, "Gap at least"), (max_text, "Gap at most")):
    if raw.strip() and parse_float(raw) is None:
        st.warning(f"{where}: {raw!r} is not a number; it is ignored.")

col1, col2, col3 = st.columns([2, 2, 1])
seed("cases_q", linked.q)
sorts = [s for s in SORTS if run["kind"] == "score" or s not in SCORE_RUN_SORTS]
if st.session_state.get("cases_sort") not in (None, *sorts):  # a comparison run was picked
    st.session_state["cases_sort"] = "gap_desc"
seed("cases_sort", linked.sort, sorts)
seed("cases_limit", linked.limit, list(PAGE_SIZES))
q = col1.text_input("Text", key="cases_q", help="every word must occur in the prompt or a response")
sort = col2.radio(
    "Sort",
    sorts,
    key="cases_sort",
    format_func=SORTS.get,
    horizontal=True,
    help="most suspicious: the mean, over every score and score_dpo run on the dataset, of "
    "P(labelled-rejected is better), as on the Suspects page",
)
limit = col3.selectbox("Per page", PAGE_SIZES, key="cases_limit")


def only_wrong() -> None:
    """The pairs the accuracy counts wrong: gap <= 0 (a gap of 0 counts wrong)."""
    st.session_state["cases_min_gap"] = ""
    st.session_state["cases_max_gap"] = "0.0"


col1, col2, col3 = st.columns([2, 2, 2])
seed("cases_cut", linked.cut or None)
seed("cases_view", linked.view, list(VIEWS))
cut_help = (
    "a response truncated to the scoring max length"
    if run["kind"] == "score"
    else "an answer that hit max_new_tokens (finish reason: length)"
)
cut = col1.checkbox("Only cut at limit", key="cases_cut", help=cut_help)
if run["kind"] == "score":
    col2.button(
        "Only wrong pairs (gap <= 0)",
        on_click=only_wrong,
        key="cases_wrong",
        help="the pairs the accuracy counts wrong: chosen not scored above rejected",
    )
view = col3.radio("View", list(VIEWS), key="cases_view", format_func=VIEWS.get, horizontal=True)
against, flip = (linked.against, linked.flip) if run["kind"] == "score" else (None, None)
if against is not None and linked.run not in (None, run["id"]):
    against, flip = None, None  # another run was picked: its flips were not asked for
# A cluster of the run's map (the Map page links here); another run's clusters differ.
cluster = linked.cluster if run["kind"] == "score" and linked.run in (None, run["id"]) else None
# A score_dpo run's disagreements with this run (the Probes page links here).
disagree = linked.disagree if run["kind"] == "score" and linked.run in (None, run["id"]) else None
# Exactly the pairs another page listed (e.g. Suspects' most suspicious).
pairs = linked.pairs if linked.run in (None, run["id"]) else None


def all_pairs() -> None:
    everything = replace(query, against=None, flip=None, cluster=None, disagree=None, pairs=None)
    st.query_params.from_dict(everything.first_page().to_params())


def only_notice(text: str, key: str) -> None:
    """Say which subset a link opened, with a button back to every pair."""
    col1, col2 = st.columns([4, 1])
    col1.info(text)
    col2.button("Show every pair", on_click=all_pairs, key=key)


if cluster is not None:
    only_notice(
        "Only the pairs "
        + ("left in no cluster" if cluster == -1 else f"in cluster {cluster}")
        + " of this run's map (the Map page names the clusters).",
        "cases_all_cluster",
    )
if against is not None:
    only_notice(
        f"Only the pairs whose verdict flips {FLIPS[flip]} from run {against} to this run "
        "(right: gap > 0; a gap of 0 counts wrong).",
        "cases_all_pairs",
    )
if disagree is not None:
    only_notice(
        f"Only the pairs where this run and the DPO implicit reward of run {disagree} prefer "
        "different responses (each prefers chosen where its gap > 0).",
        "cases_all_disagree",
    )
if pairs is not None:
    only_notice(
        f"Only the {len(pairs.split(','))} pairs the link names (those this run scored).",
        "cases_all_listed",
    )

query = CaseQuery(
    run=run["id"],
    a=a,
    b=b,
    min_gap=parse_float(min_text),
    max_gap=parse_float(max_text),
    category=category,
    split=split,
    q=q.strip() or None,
    sort=sort,
    limit=limit,
    cursor=linked.cursor,
    page=linked.page,
    case=linked.case if linked.run in (None, run["id"]) else None,
    cut=cut,
    against=against,
    flip=flip,
    view=view,
    cluster=cluster,
    disagree=disagree,
    pairs=pairs,
)
if query.filters() != linked.filters():
    query = query.first_page()
params = query.to_params()
if st.query_params.to_dict() != params:
    st.query_params.from_dict(params)


# ------------------------------------------------------------------ paging and links
def history() -> list[str | None]:
    """Cursors of the pages before this one (for Previous), for the current filters."""
    saved = st.session_state.get("cases_history")
    if not saved or saved["filters"] != query.filters():
        saved = {"filters": query.filters(), "cursors": []}
        st.session_state["cases_history"] = saved
    return saved["cursors"]


def go(cursor: str | None, page: int) -> None:
    st.query_params.from_dict(replace(query, cursor=cursor, page=page).to_params())


def go_next(cursor: str) -> None:
    history().append(query.cursor)
    go(cursor, query.page + 1)


def go_previous() -> None:
    cursors = history()
    if cursors and query.page > 1:
        go(cursors.pop(), query.page - 1)
    else:  # arrived by a link in the middle: start over
        go(None, 1)


def open_case(pair_id: int) -> None:
    st.query_params.from_dict(replace(query, case=pair_id).to_params())


def close_case() -> None:
    st.query_params.from_dict(replace(query, case=None).to_params())


# ------------------------------------------------------------------ the page of cases
try:
    result = data.cases(url, run["id"], stamp, **query.search_kwargs())
except PrefLensError as exc:
    if query.cursor is None:
        st.warning(str(exc))
        st.stop()
    st.warning(f"{exc} Showing the first page.")
    query = query.first_page()
    st.query_params.from_dict(query.to_params())
    result = data.cases(url, run["id"], stamp, **query.search_kwargs())

items = result["items"]
start = (query.page - 1) * query.limit
total = result.get("total")
if not items:
    st.info("No cases match these filters.")
else:
    of = f" of {total}" if total is not None else ""
    st.caption(
        f"Page {query.page}: cases {start + 1}-{start + len(items)}{of}, "
        f"{SORTS[query.sort]}. Texts are 200-character previews; open a case for all of it."
    )
terms = (query.q or "").split()
on_page = {item["pair_id"] for item in items}
# A case on this page opens where its card was (no jump to the top of the page); a case
# from a link (not on this page) opens above the list.
if query.case is not None and (query.case not in on_page or query.view == "table"):
    case_view.show_case(url, run["id"], query.case, a, b, query, close_case)


def pager(where: str) -> None:
    """Previous / Next buttons (above and below the cases)."""
    back, forward, _ = st.columns([1, 1, 2])
    back.button(
        "Previous", on_click=go_previous, disabled=query.page <= 1, key=f"cases_prev_{where}"
    )
    forward.button(
        "Next",
        on_click=go_next,
        args=(result["next_cursor"],),
        disabled=result["next_cursor"] is None,
        key=f"cases_next_{where}",
    )


def texts_of(item: dict[str, Any]) -> dict[str, str]:
    """The full prompt and both sides of a case (for snippets around a search match)."""
    full = data.case(url, run["id"], item["pair_id"], a, b)
    out = {"prompt": full["pair"]["prompt_text"] or item["prompt"]}
    if full["kind"] == "score":
        return out | {"chosen": full["pair"]["chosen"], "rejected": full["pair"]["rejected"]}
    answers = {g["policy"]: g["text"] for g in full["generations"]}
    return out | {"a": answers[full["a"]], "b": answers[full["b"]]}


def shown_text(preview: str, full: dict[str, str] | None, part: str) -> None:
    """A preview as plain text; with a search, a snippet around the first match with
    every search word marked (escaped first: see ``dashboard.highlight``)."""
    if full is None:
        ui.model_text(preview, preview=True)
    else:
        st.html(highlight.marked_html(highlight.snippet(full[part], terms), terms))


def card_header(item: dict[str, Any]) -> None:
    st.markdown(
        f"**Pair {item['pair_id']}** · category {md_escape(item['category'] or '(none)')} · "
        f"split {md_escape(item['split'])} · gap **{fmt_signed(item['gap'], 4)}**"
        + case_table.suspicion_text(item)
    )


def card(item: dict[str, Any]) -> None:
    full = texts_of(item) if terms else None
    with st.container(border=True):
        card_header(item)
        st.caption("Prompt")
        shown_text(item["prompt"], full, "prompt")
        left, right = st.columns(2)
        if result["kind"] == "score":
            sides = (
                (left, "Chosen", "chosen", item["chosen"]),
                (right, "Rejected", "rejected", item["rejected"]),
            )
            for col, title, side, text in sides:
                with col:
                    notes = ["truncated"] if item[f"truncated_{side}"] else []
                    ui.side_header(title, item[f"score_{side}"], item[f"tokens_{side}"], notes)
                    shown_text(text, full, side)
        else:
            sides = (
                (left, f"{result['a']} (A)", "a", item["text_a"]),
                (right, f"{result['b']} (B)", "b", item["text_b"]),
            )
            for col, title, side, text in sides:
                with col:
                    notes = (
                        ["cut at the length limit"] if item[f"finish_{side}"] == "length" else []
                    )
                    ui.side_header(
                        title,
                        item[f"score_{side}"],
                        item[f"tokens_{side}"],
                        notes,
                        unit=ui.GENERATED_TOKENS,
                    )
                    shown_text(text, full, side)
        st.button(
            "Open in full",
            key=f"cases_open_{item['pair_id']}",
            on_click=open_case,
            args=(item["pair_id"],),
        )


def table(rows: list[dict[str, Any]]) -> None:
    """The page as one dense table (click a header to sort the page by it); selecting a
    row opens that case in full above the table."""
    frame = case_table.cases_table(result["kind"], rows)
    event = tables.fitted_table(
        frame,
        "cases_table",
        case_table.PRIMARY,
        on_select="rerun",
        selection_mode="single-row",
        column_config=case_table.cases_table_columns(result["kind"]),
    )
    picked = event.selection.rows if event is not None else []
    if picked:
        pair_id = int(frame.iloc[picked[0]]["pair"])
        if pair_id != query.case:
            open_case(pair_id)
            st.rerun()
    st.caption("Select a row to open its case in full; texts are 200-character previews.")


pager("top")
if query.view == "table" and items:
    table(items)
else:
    for item in items:
        if item["pair_id"] == query.case:  # opened: the card grows into the whole case
            card_header(item)
            case_view.show_case(url, run["id"], item["pair_id"], a, b, query, close_case)
        else:
            card(item)
if items:
    pager("bottom")
