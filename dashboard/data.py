"""Cached wrappers over ``db.read``: the dashboard's only way to the store.

The engine is a ``st.cache_resource`` (one per database URL and process), read-only:
SQLite opens the file in ``mode=ro``, PostgreSQL sessions are set read-only. Each call
opens a short ``Session`` (never cached) and returns ``db.read``'s plain result, which
``st.cache_data`` keeps for ``PREFLENS_DASHBOARD_CACHE_TTL`` seconds. The run list is
kept only a few seconds, and everything about one run takes the run's ``stamp``
(status, progress, end time) as part of its key, so a running job's numbers follow it
on refresh while a finished run's are read once (the TTL only bounds how long a result
stays; "Reload data" in the sidebar forgets them all).

These are the same functions the API's read endpoints call, so every number on a page
equals the backend's JSON for the same view. All aggregation happens in SQL (or numpy
over numeric columns) inside ``db.read``: no function here loads the texts of a run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import streamlit as st
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from db import read
from db.session import is_sqlite, make_engine, shown_url
from preflens.config import get_settings

T = TypeVar("T")
TTL = get_settings().dashboard_cache_ttl
RUNS_TTL = 2.0  # seconds: the Overview's progress column follows a running job
DATASETS_TTL = 30.0  # datasets change only when something is ingested
MAX_ENTRIES = 256  # per cached function: bounds the memory of long sessions


def database_url() -> str:
    return get_settings().resolved_database_url


@st.cache_resource(show_spinner=False)
def engine(url: str) -> Engine:
    """The process-wide read-only engine for ``url``."""
    settings = get_settings()
    eng = make_engine(url, readonly=is_sqlite(url), busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    if not is_sqlite(url):

        @event.listens_for(eng, "connect")
        def _read_only(dbapi_conn, _record) -> None:  # noqa: ANN001 - DB-API objects
            cur = dbapi_conn.cursor()
            cur.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            cur.close()

    return eng


def _call(url: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    with Session(engine(url)) as session:
        return fn(session, *args, **kwargs)


@st.cache_data(ttl=5, show_spinner=False)
def store_problem(url: str) -> str | None:
    """None when the store answers; otherwise what is wrong and what to do."""
    try:
        with engine(url).connect() as conn:
            conn.execute(text("SELECT count(*) FROM run")).scalar()
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).splitlines()[0]
        return (
            f"cannot read the store at {shown_url(url)} ({reason}). Create it with "
            "`preflens demo` or `preflens ingest PATH`, or point PREFLENS_DATABASE_URL / "
            "PREFLENS_DATA_DIR at it."
        )
    return None


# ------------------------------------------------------------------ datasets, runs
@st.cache_data(ttl=DATASETS_TTL, show_spinner=False)
def datasets(url: str) -> list[dict[str, Any]]:
    return _call(url, read.list_datasets)


@st.cache_data(ttl=RUNS_TTL, show_spinner=False)
def runs(url: str) -> list[dict[str, Any]]:
    """Every run, oldest first (``GET /v1/runs``)."""
    return _call(url, read.list_runs)


@st.cache_data(ttl=RUNS_TTL, show_spinner=False)
def checkpoints(url: str) -> list[dict[str, Any]]:
    return _call(url, read.list_checkpoints)


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def run_scorer(url: str, run_id: int) -> dict[str, Any]:
    """Which RM scored a run (fingerprint, max length, head seed): ``read.run_scorer``."""
    return _call(url, read.run_scorer, run_id)


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def run_summary(url: str, run_id: int, stamp: str) -> dict[str, Any]:
    """``GET /v1/runs/{run_id}/summary``."""
    return _call(url, read.run_summary, run_id)


# ------------------------------------------------------------------ distributions
@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def histogram(
    url: str,
    run_id: int,
    stamp: str,
    side: str,
    bins: int = 30,
    lo: float | None = None,
    hi: float | None = None,
    policy: str | None = None,
    a: str | None = None,
    b: str | None = None,
) -> dict[str, Any]:
    """``GET /v1/runs/{run_id}/histogram?side=&bins=&min=&max=&policy=&a=&b=``."""
    return _call(url, read.histogram, run_id, side, bins, lo, hi, policy=policy, a=a, b=b)


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def cdf(
    url: str,
    run_id: int,
    stamp: str,
    side: str,
    points: int = 200,
    policy: str | None = None,
    a: str | None = None,
    b: str | None = None,
) -> dict[str, Any]:
    """``GET /v1/runs/{run_id}/cdf?side=&points=&policy=&a=&b=``."""
    return _call(url, read.cdf, run_id, side, points, policy=policy, a=a, b=b)


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def box(
    url: str,
    run_id: int,
    stamp: str,
    side: str,
    policy: str | None = None,
    a: str | None = None,
    b: str | None = None,
) -> dict[str, Any]:
    """``db.read.box_stats`` (quartiles, whiskers, mean, std, min, max)."""
    return _call(url, read.box_stats, run_id, side, policy=policy, a=a, b=b)


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def percentile(
    url: str, run_id: int, stamp: str, score: float, policy: str | None = None
) -> float | None:
    """``GET /v1/runs/{run_id}/percentile?score=&policy=`` (its ``percentile``)."""
    return _call(url, read.score_percentile, run_id, score, policy)


# ------------------------------------------------------------------ training, policies
@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def metrics(
    url: str, run_ids: Sequence[int], stamps: Sequence[str], names: Sequence[str] | None = None
) -> dict[str, Any]:
    """``GET /v1/metrics?run=...&name=...``."""
    return _call(url, read.metrics, list(run_ids), list(names) if names else None)


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def scatter(url: str, run_id: int, stamp: str, a: str | None, b: str | None) -> dict[str, Any]:
    """``GET /v1/runs/{run_id}/scatter?a=&b=``."""
    return _call(url, read.generation_scatter, run_id, a, b)


# ------------------------------------------------------------------ cases
@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def cases(url: str, run_id: int, stamp: str, **filters: Any) -> dict[str, Any]:
    """``GET /v1/cases?run=...`` with the same filters: one page, 200-character previews."""
    return _call(url, read.search_cases, run_id, **filters)


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def case(
    url: str, run_id: int, pair_id: int, a: str | None = None, b: str | None = None
) -> dict[str, Any]:
    """``GET /v1/cases/{pair_id}?run=&a=&b=``: one case in full."""
    return _call(url, read.get_case, run_id, pair_id, a, b)


def clear() -> None:
    """Forget every cached result (the sidebar's reload button)."""
    st.cache_data.clear()
