"""Cached reads behind the Diagnostics page (the same ``db.read.diagnostics`` functions
as the API's diagnostics routes), through ``dashboard.data``'s read-only engine."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard import data
from db.read import compare
from db.read import diagnostics as diag
from db.read.headlines import run_headlines

MAX_ENTRIES = 64


@st.cache_data(ttl=data.TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def run_diagnostics(url: str, run_id: int, stamp: str) -> dict[str, Any]:
    """``GET /v1/runs/{run_id}/diagnostics``."""
    return data._call(url, diag.run_diagnostics, run_id)


@st.cache_data(ttl=data.TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def paired(url: str, run_a: int, run_b: int, stamp: str) -> dict[str, Any]:
    """``GET /v1/runs/{a}/paired/{b}``."""
    return data._call(url, diag.paired, run_a, run_b)


@st.cache_data(ttl=data.TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def paired_points(url: str, run_a: int, run_b: int, stamp: str) -> list[dict[str, Any]]:
    return data._call(url, diag.paired_scatter, run_a, run_b)


@st.cache_data(ttl=data.TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def confidently_wrong(url: str, run_id: int, stamp: str, limit: int) -> list[dict[str, Any]]:
    """``GET /v1/runs/{run_id}/confidently-wrong``."""
    return data._call(url, diag.confidently_wrong, run_id, limit)


@st.cache_data(ttl=data.TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def comparison_options(url: str, run_id: int, stamp: str) -> dict[str, Any]:
    """``GET /v1/runs/{run_id}/comparable``: runs on the same pairs, partner first."""
    return data._call(url, compare.comparison_options, run_id)


@st.cache_data(ttl=data.TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def headlines(url: str, run_id: int, stamp: str) -> list[dict[str, Any]]:
    """``GET /v1/runs/{run_id}/headlines``: value, 95% interval, n, verdicts."""
    return data._call(url, run_headlines, run_id)
