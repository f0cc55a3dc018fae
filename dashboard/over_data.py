"""Cached reads of the Over training page (``db.read.series`` and ``db.read.bon``), the
same functions ``GET /v1/runs/{id}/series`` and ``/bon`` call; keyed by the run's stamp
like every read in ``dashboard.data``."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard.data import MAX_ENTRIES, TTL, _call
from db.read import bon, series


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def points(url: str, run_id: int, stamp: str) -> list[tuple[int, int]]:
    """(step, score run) of a training run's series (``series.series_points``)."""
    return _call(url, series.series_points, run_id)


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def run_series(
    url: str, run_id: int, stamp: str, pair_ids: tuple[int, ...] | None
) -> dict[str, Any]:
    """``GET /v1/runs/{run_id}/series`` (``pair`` ids as given)."""
    return _call(url, series.series, run_id, list(pair_ids) if pair_ids is not None else None)


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def run_bon(url: str, run_id: int, stamp: str) -> dict[str, Any]:
    """``GET /v1/runs/{run_id}/bon``."""
    return _call(url, bon.bon_summary, run_id)
