"""Fixtures for the training tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def cli_store(store, db_url, monkeypatch):
    """The command line writes to the test's store."""
    from preflens.config import get_settings

    monkeypatch.setenv("PREFLENS_DATABASE_URL", db_url)
    get_settings.cache_clear()
    return store
