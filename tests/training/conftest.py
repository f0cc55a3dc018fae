"""Fixtures for the training tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def cli_store(store, db_url, monkeypatch):
    """The command line writes to the test's store."""
    from preflens.config import get_settings

    monkeypatch.setenv("PREFLENS_DATABASE_URL", db_url)
    # main() writes --rm-layout into the environment; recorded here so the test's end
    # removes it again (later tests, and session fixtures, must not inherit it).
    monkeypatch.setenv("PREFLENS_RM_LAYOUT", "auto")
    get_settings.cache_clear()
    return store
