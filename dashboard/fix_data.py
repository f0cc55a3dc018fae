"""Cached reads for the fix-the-data views (suspects, slices) and the uncached read of a
pair's flag (a flag set a moment ago must show on the next rerun). Same functions as the
API's routes, so a page equals the JSON."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard.data import MAX_ENTRIES, TTL, _call
from db.flags import get_flag
from db.read.slices import run_slices
from db.read.suspects import suspects as read_suspects

SHORT_TTL = 5.0  # seconds: flags shown in the suspects list follow a change quickly


@st.cache_data(ttl=SHORT_TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def suspects(url: str, dataset_id: int, split: str | None, limit: int, stamp: str) -> dict:
    """``GET /v1/datasets/{id}/suspects``; ``stamp`` changes when the runs change."""
    return _call(url, read_suspects, dataset_id, None, split, limit)


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def slices(url: str, run_id: int, stamp: str, against: int | None = None) -> dict:
    """``GET /v1/runs/{id}/slices[?against=]``."""
    return _call(url, run_slices, run_id, against)


def pair_flag(url: str, pair_id: int) -> dict[str, Any] | None:
    """``GET /v1/pairs/{id}/flag``, read each time (never cached)."""
    return _call(url, get_flag, pair_id)
