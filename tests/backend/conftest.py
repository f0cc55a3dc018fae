"""Fixtures for the HTTP service: tiny models loaded once, a seeded store, a client."""

from __future__ import annotations

import pytest

from tests.backend.seed import seed_store


@pytest.fixture(scope="session")
def tiny_rm(tiny_lm):
    """The tiny random LM as a reward model (a head from seed 0), loaded once."""
    from training.loading import load_reward_model

    return load_reward_model(str(tiny_lm), device="cpu")


@pytest.fixture(scope="session")
def tiny_policies(tiny_lm):
    from training.loading import load_policy

    return {
        "base": load_policy(str(tiny_lm), "base", device="cpu"),
        "dpo": load_policy(str(tiny_lm), "dpo", device="cpu"),
    }


@pytest.fixture
def seeded(store):
    return seed_store(store)


@pytest.fixture
def api_settings(db_url):
    """Settings of a test server: the test's SQLite file, no model loaded from settings."""
    from preflens.config import Settings

    return Settings(database_url=db_url, api_rm="", api_policies={})


@pytest.fixture
def make_client(api_settings, tiny_rm, tiny_policies):
    """Build a TestClient (lifespan run) for settings changed by keyword."""
    from fastapi.testclient import TestClient

    from backend.app import create_app

    clients = []

    def make(*, reward=True, policies=True, **changes):
        settings = api_settings.model_copy(update=changes)
        app = create_app(
            settings,
            reward_model=tiny_rm if reward else None,
            policies=tiny_policies if policies else {},
        )
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client, seeded):
    return make_client()
