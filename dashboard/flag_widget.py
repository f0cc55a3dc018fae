"""A pair's flag on a case view: what is set (label, note, who, when) and a form that
sets or clears it through the backend (``PUT``/``DELETE /v1/pairs/{id}/flag``); the
dashboard itself never writes the store."""

from __future__ import annotations

import streamlit as st

from dashboard import fix_data
from dashboard.api_client import BackendError, client_from_settings
from dashboard.frames import md_escape
from db.schema import FLAG_LABELS


def flag_text(flag: dict | None) -> str:
    """One line about a pair's flag (markdown-escaped)."""
    if flag is None:
        return "Flag: none"
    when = (flag.get("updated_at") or "")[:16].replace("T", " ")
    note = f" · note: {md_escape(flag['note'])}" if flag.get("note") else ""
    return f"Flag: **{flag['label']}** · set by {md_escape(flag['set_by'])} at {when} UTC{note}"


def flag_panel(url: str, pair_id: int, key: str) -> None:
    """Show the pair's flag and a form to set or clear it."""
    flag = fix_data.pair_flag(url, pair_id)
    st.markdown(flag_text(flag))
    with st.form(f"{key}_flag_form_{pair_id}", border=False):
        left, right = st.columns([1, 3])
        labels = list(FLAG_LABELS)
        label = left.selectbox(
            "Flag this pair",
            labels,
            index=labels.index(flag["label"]) if flag else 0,
            key=f"{key}_flag_label_{pair_id}",
        )
        note = right.text_input(
            "Note", value=flag["note"] if flag else "", max_chars=2000, key=f"{key}_note_{pair_id}"
        )
        save, clear = st.columns([1, 1])
        saved = save.form_submit_button("Save flag")
        cleared = clear.form_submit_button("Clear flag", disabled=flag is None)
    if saved or cleared:
        try:
            api = client_from_settings()
            if saved:
                api.set_flag(pair_id, label, note)
            else:
                api.clear_flag(pair_id)
        except BackendError as exc:
            st.warning(f"Flag not saved: {md_escape(str(exc))}")
            return
        st.rerun()
