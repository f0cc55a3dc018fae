"""Small Streamlit helpers shared by the pages: the store check, run pickers, metric rows,
charts, and the one way model text is shown (``st.text``: never Markdown or HTML)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import altair as alt
import streamlit as st

from dashboard import charts, data
from dashboard.frames import fmt, md_escape, run_label
from preflens.errors import PrefLensError
from preflens.headline import NOT_DIFFERENT, fmt_value, headline_caption

PREVIEW_CHARS = 200
MESSAGE_CHARS = 300  # an error message longer than this (an echoed URL value) is cut
UNEXPECTED = (
    "This page could not be shown: something went wrong reading it (the details are in "
    "the dashboard's log). Check the address, or go back to the Overview."
)

log = logging.getLogger("dashboard")


def store_url() -> str:
    """The database URL, after checking the store answers (else an error and stop)."""
    url = data.database_url()
    problem = data.store_problem(url)
    if problem:
        st.error(problem)
        st.stop()
    return url


def runs_of(url: str, *kinds: str) -> list[dict[str, Any]]:
    """Runs of these kinds, newest first."""
    return [r for r in reversed(data.runs(url)) if r["kind"] in kinds]


def first_done(runs: Sequence[dict[str, Any]], kind: str | None = None) -> int:
    """The id of the first finished run (of ``kind``, if given), else of the first run."""
    done = [r for r in runs if r["status"] == "done" and kind in (None, r["kind"])]
    return (done or list(runs))[0]["id"]


def pick_run(
    label: str,
    runs: Sequence[dict[str, Any]],
    *,
    key: str,
    default_id: int | None = None,
    help: str | None = None,
) -> dict[str, Any]:
    """A select box over ``runs`` (labelled ``#id kind · model · dataset/split``)."""
    by_id = {r["id"]: r for r in runs}
    ids = list(by_id)
    if key in st.session_state and st.session_state[key] not in by_id:
        del st.session_state[key]  # the run list changed under the widget
    if key not in st.session_state and default_id in by_id:
        st.session_state[key] = default_id
    chosen = st.selectbox(label, ids, key=key, format_func=lambda i: run_label(by_id[i]), help=help)
    return by_id[chosen]


def metric_row(items: Sequence[tuple[str, str]], help: dict[str, str] | None = None) -> None:
    """``st.metric`` tiles in one row; labels are ours, values are formatted numbers."""
    for col, (label, value) in zip(st.columns(len(items)), items, strict=True):
        col.metric(label, value, help=(help or {}).get(label))


# Verdicts are states, not series: neutral grey when nothing is wrong with the number,
# orange when it should change how the number is read.
BADGE_COLORS = {NOT_DIFFERENT: "gray"}


def headline_tile(h: dict[str, Any], *, pct: bool = False, help: str | None = None) -> None:
    """One headline (``preflens.headline``): the value as a metric, its 95% interval, n
    and method underneath, then one badge per verdict."""
    st.metric(h["label"], fmt_value(h["value"], pct), help=help)
    st.caption(headline_caption(h, pct))
    for verdict in h.get("verdicts") or []:
        st.badge(verdict, color=BADGE_COLORS.get(verdict, "orange"))


def headline_row(
    headlines: Sequence[dict[str, Any]], *, pct: bool = False, help: dict[str, str] | None = None
) -> None:
    """Headline tiles side by side (``help`` by label)."""
    for col, h in zip(st.columns(max(len(headlines), 1)), headlines, strict=False):
        with col:
            headline_tile(h, pct=pct, help=(help or {}).get(h["label"]))


def chart(figure: alt.TopLevelMixin) -> None:
    """A chart across its column; a long title wraps (``charts.wrap_title``) instead of
    being cut with "…" when the column is narrow."""
    st.altair_chart(charts.wrap_title(figure), width="stretch")


def model_text(text: str | None, *, preview: bool = False) -> None:
    """Text from a model or a dataset, shown as plain text: no Markdown, no HTML, so a
    response holding ``<script>`` or ``[link](...)`` shows those characters and runs
    nothing. ``preview``: the text is a 200-character preview (marked when cut)."""
    value = text if text is not None else ""
    if preview and len(value) >= PREVIEW_CHARS:
        value += " …"
    st.text(value if value else "(empty)")


CONVERSATION_TOKENS = "conversation tokens (as scored)"
GENERATED_TOKENS = "generated tokens"


def side_header_text(
    title: str,
    score: float | None,
    tokens: int | None,
    notes: Sequence[str],
    *,
    unit: str = CONVERSATION_TOKENS,
    response_tokens: int | None = None,
    max_length: int | None = None,
) -> str:
    """``**Chosen** · score 0.412 · 10 response tokens · 50 of max 256 conversation tokens
    (as scored) · truncated``: every token count says which tokens it counts (only our
    own words and numbers; data names are escaped)."""
    parts = [f"**{md_escape(title)}**", f"score {fmt(score, 4)}"]
    if response_tokens is not None:
        parts.append(f"{response_tokens} response tokens")
    if tokens is not None:
        of = f" of max {max_length}" if max_length is not None else ""
        parts.append(f"{tokens}{of} {unit}")
    parts += [md_escape(n) for n in notes]
    return " · ".join(parts)


def side_header(
    title: str,
    score: float | None,
    tokens: int | None,
    notes: Sequence[str],
    **kwargs: Any,
) -> None:
    """One side's header (``side_header_text``); ``unit`` names what ``tokens`` counts:
    conversation tokens as scored (the default) or ``GENERATED_TOKENS``."""
    st.markdown(side_header_text(title, score, tokens, notes, **kwargs))


def show_error(exc: PrefLensError) -> None:
    st.error(str(exc))


def error_text(exc: BaseException) -> str:
    """What the page says about an error: a ``PrefLensError``'s own message (made inert
    for Markdown, since it may echo a value from the URL; cut when very long), anything
    else a short generic line."""
    if not isinstance(exc, PrefLensError):
        return UNEXPECTED
    message = " ".join(str(exc).split())
    if len(message) > MESSAGE_CHARS:
        message = message[:MESSAGE_CHARS] + " …"
    return md_escape(message)


def run_page(page: Any) -> None:
    """Run a page's script; an error in it becomes one short message on the page instead
    of Streamlit's stack trace (which shows server paths). Anything but a
    ``PrefLensError`` is logged with its traceback here, on the server. ``st.stop`` and
    reruns are not ``Exception`` subclasses and pass through."""
    try:
        page.run()
    except Exception as exc:  # noqa: BLE001 - the one place every page error ends up
        if not isinstance(exc, PrefLensError):
            log.exception("page %s failed", getattr(page, "title", page))
        st.error(error_text(exc))


def need(condition: bool, message: str) -> None:
    """Show ``message`` and stop the page when ``condition`` is false."""
    if not condition:
        st.info(message)
        st.stop()
