"""The Cases page's one case in full (the pair, its flag, the prompt, both sides with
their scores and token counts, the token heatmap from the backend and the case's link);
the page itself (filters, paging, cards and table) is ``dashboard/app_pages/cases.py``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

import streamlit as st

from dashboard import data, flag_widget, probe_charts, ui
from dashboard.api_client import BackendError, client_from_settings
from dashboard.frames import fmt, fmt_signed, md_escape
from dashboard.state import CaseQuery
from preflens.errors import PrefLensError


def token_heatmap(prompt: Any, responses: dict[str, str]) -> None:
    """Both responses as token boxes on one colour scale (``POST /v1/score`` with
    ``per_token`` on the backend's reward model, which may differ from the run's)."""
    try:
        values = client_from_settings().token_values(prompt, list(responses.values()))
    except BackendError as exc:
        st.warning(f"No token heatmap: {md_escape(str(exc))}")
        return
    frame = probe_charts.token_frame(dict(zip(responses, values, strict=True)))
    ui.chart(probe_charts.token_heatmap_chart(frame))
    st.caption(
        "Value of the backend's reward head at each token, reading only the text up to it; "
        "the last box (end of turn) is the score. A Bradley-Terry RM is trained only at "
        "that last token: earlier values show where the score moves, not rewards of prefixes."
    )


def show_case(
    url: str,
    run_id: int,
    pair_id: int,
    a: str | None,
    b: str | None,
    query: CaseQuery,
    close_case: Callable[[], None],
) -> None:
    """One case in full inside a bordered box: the pair, its flag, the prompt, both sides
    with their scores and tokens (and the token heatmap on request), the case's link and
    a button that closes it (``close_case``)."""
    try:
        full = data.case(url, run_id, pair_id, a, b)
    except PrefLensError as exc:
        st.warning(f"Case {pair_id}: {exc}")
        return
    pair = full["pair"]
    with st.container(border=True):
        st.subheader(f"Pair {pair['id']} in full")
        st.markdown(
            f"dataset {md_escape(pair['dataset'])} · split {md_escape(pair['split'])} · "
            f"category {md_escape(pair['category'] or '(none)')} · "
            f"source row {pair['source_row']}"
        )
        flag_widget.flag_panel(url, pair["id"], "cases")
        st.caption("Prompt")
        for message in pair["prompt"]:
            st.caption(md_escape(message.get("role", "")))
            ui.model_text(message.get("content", ""))
        if full["kind"] == "score":
            s = full["scores"]
            ui.metric_row(
                [
                    ("gap (chosen - rejected)", fmt_signed(s["gap"], 4)),
                    ("P(chosen preferred)", fmt(s["p_chosen_preferred"])),
                ]
            )
            left, right = st.columns(2)
            for col, side, text in (
                (left, "chosen", pair["chosen"]),
                (right, "rejected", pair["rejected"]),
            ):
                with col:
                    notes = ["truncated"] if s[f"truncated_{side}"] else []
                    ui.side_header(
                        side.capitalize(),
                        s[f"score_{side}"],
                        s[f"tokens_{side}"],
                        notes,
                        response_tokens=s.get(f"response_tokens_{side}"),
                        max_length=full.get("max_length"),
                    )
                    ui.model_text(text)
            if st.toggle(
                "Token heatmap",
                key="cases_tokens",
                help="the reward head's value at every token, from the backend's RM",
            ):
                token_heatmap(
                    pair["prompt"], {"chosen": pair["chosen"], "rejected": pair["rejected"]}
                )
        else:
            answers = {g["policy"]: g for g in full["generations"]}
            ui.metric_row([("gap (A - B)", fmt_signed(full["gap"], 4))])
            left, right = st.columns(2)
            for col, role, name in ((left, "A", full["a"]), (right, "B", full["b"])):
                g = answers[name]
                notes = ["cut at the length limit"] if g["finish_reason"] == "length" else []
                notes += ["truncated when scored"] if g["truncated"] else []
                with col:
                    ui.side_header(
                        f"{name} ({role})",
                        g["score"],
                        g["n_tokens"],
                        notes,
                        unit=ui.GENERATED_TOKENS,
                    )
                    ui.model_text(g["text"])
        st.caption("This case as a link (the address bar holds it too):")
        st.code("?" + urlencode(replace(query, case=pair_id).to_params()), language=None)
        st.button("Close case", on_click=close_case, key="cases_close")
