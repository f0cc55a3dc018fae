"""Shared fixtures: an isolated data dir and SQLite file per test, tiny models, the real model."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.factories import make_tiny_lm_dir

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("PREFLENS_SHARED_DATA", REPO.parent / "shared" / "data"))
HH_FILE = SHARED_DATA / "hh_rlhf_harmless_test_first1000.jsonl"
# `make test` pulls the embedded model here (the default data dir) before the tests run.
REPO_MODEL_CACHE = Path(os.environ.get("PREFLENS_TEST_MODEL_CACHE", REPO / ".preflens" / "models"))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _clear_caches() -> None:
    from db.session import get_engine, get_sessionmaker
    from preflens.config import get_settings

    get_settings.cache_clear()
    get_engine.cache_clear()
    get_sessionmaker.cache_clear()


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch):
    """Every test gets its own data dir and database file; the model cache is shared."""
    for key in list(os.environ):
        if key.startswith("PREFLENS_") and key != "PREFLENS_TEST_MODEL_CACHE":
            monkeypatch.delenv(key)
    monkeypatch.setenv("PREFLENS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PREFLENS_MODEL_CACHE", str(REPO_MODEL_CACHE))
    _clear_caches()
    yield
    _clear_caches()


@pytest.fixture
def db_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture
def store(db_url):
    """A migrated SQLite file and its sessionmaker."""
    from db.migrate import upgrade
    from db.session import get_sessionmaker

    upgrade(db_url)
    return get_sessionmaker(db_url)


@pytest.fixture(scope="session")
def tiny_lm(tmp_path_factory) -> Path:
    """A random-initialised tiny causal LM checkpoint (no score head), built from a config."""
    return make_tiny_lm_dir(tmp_path_factory.mktemp("tiny-lm"))


@pytest.fixture(scope="session")
def embedded_model() -> Path:
    from preflens.model_cache import embedded_model_path, is_converted

    path = embedded_model_path(REPO_MODEL_CACHE)
    if not is_converted(path):
        if os.environ.get("CI") == "true":
            pytest.fail(f"embedded model missing from {REPO_MODEL_CACHE}: `make test` pulls it")
        pytest.skip(f"embedded model not pulled into {REPO_MODEL_CACHE}; run `make model`")
    return path


@pytest.fixture(scope="session")
def stopping_lm(tmp_path_factory) -> Path:
    """A tiny causal LM that answers "ok" and then ends its turn (greedy decoding)."""
    from tests.factories import make_stopping_lm_dir

    return make_stopping_lm_dir(tmp_path_factory.mktemp("stopping-lm"))
