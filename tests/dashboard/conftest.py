"""Fixtures for the dashboard: a seeded store the app reads through
PREFLENS_DATABASE_URL, and AppTest runs of one page."""

from __future__ import annotations

import functools
import socket

import pytest

from tests.conftest import REPO
from tests.dashboard.seed import seed_dashboard_store

APP = REPO / "dashboard" / "app.py"
PAGES = {
    "overview": "app_pages/overview.py",
    "reward_model": "app_pages/reward_model.py",
    "training": "app_pages/training.py",
    "policies": "app_pages/policies.py",
    "cases": "app_pages/cases.py",
    "live": "app_pages/live.py",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def app_env(db_url, monkeypatch):
    """The app reads the test's SQLite file (PREFLENS_DATABASE_URL); the backend URL points
    at a port where nothing listens; Streamlit's caches start empty."""
    import streamlit as st

    from preflens.config import get_settings

    monkeypatch.setenv("PREFLENS_DATABASE_URL", db_url)
    monkeypatch.setenv("PREFLENS_DASHBOARD_API_URL", f"http://127.0.0.1:{free_port()}")
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def dash(store, app_env):
    """The seeded store (``tests.dashboard.seed``) the app reads."""
    return seed_dashboard_store(store)


@pytest.fixture
def open_page():
    """``open_page("cases", query={"run": "1"})``: an AppTest run of that page, which must
    not have hit an unexpected error (``ui.run_page`` would show one generic line);
    ``open_page.unchecked(...)`` skips that check, for tests that cause one."""
    from streamlit.testing.v1 import AppTest

    from dashboard.ui import UNEXPECTED

    def run(name: str, query: dict[str, str] | None = None, check: bool = True) -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=60)
        at.run()
        assert not at.exception, at.exception
        if name != "overview":
            at.switch_page(PAGES[name])
        if query:
            at.query_params = dict(query)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        if check:
            assert UNEXPECTED not in [e.value for e in at.error]
        return at

    run.unchecked = functools.partial(run, check=False)  # type: ignore[attr-defined]
    return run
