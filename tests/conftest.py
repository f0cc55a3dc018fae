"""Shared fixtures: an isolated data dir and SQLite file per test, tiny models, the real model."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.factories import make_tiny_lm_dir

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("PREFLENS_SHARED_DATA", REPO.parent / "shared" / "data"))
HH_FILE = SHARED_DATA / "hh_rlhf_harmless_test_first1000.jsonl"
# `make test` pulls the embedded model here (the default data dir) before the tests run.
REPO_MODEL_CACHE = Path(os.environ.get("PREFLENS_TEST_MODEL_CACHE", REPO / ".preflens" / "models"))

# Read now: the per-test settings fixture clears every PREFLENS_* variable.
TEST_POSTGRES_URL = os.environ.get("PREFLENS_TEST_POSTGRES_URL")
PG_BINDIR = os.environ.get("PREFLENS_PG_BINDIR")

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


# ---------------------------------------------------------------- databases
# Test modules (and tests marked `both_databases`) whose `db_url` runs on SQLite and on a
# throwaway PostgreSQL cluster; a test in them marked `sqlite_only` stays on SQLite.
BOTH_DATABASES_MODULES = {
    "tests/db/test_store.py",
    "tests/db/test_values.py",
    "tests/backend/test_read.py",
    "tests/backend/test_api_read.py",
    "tests/training/test_ingest.py",
}
# Tests of those modules that check SQLite itself (pragmas, FTS5 tables, the file).
SQLITE_ONLY_TESTS = {
    "test_migrations_apply_to_empty_database_and_match_models",
    "test_sqlite_pragmas_and_readonly",
    "test_fts_search_follows_inserts_and_deletes",
    "test_upgrade_keeps_existing_rows",
    "test_cli_ingest_exit_codes",
    "test_large_runs_read_by_a_table_scan_give_the_same_numbers",
}


def pytest_configure(config) -> None:  # noqa: ANN001 - pytest's Config
    config.addinivalue_line("markers", "both_databases: run on SQLite and on PostgreSQL")
    config.addinivalue_line("markers", "sqlite_only: stays on SQLite in a both-databases module")


def pytest_generate_tests(metafunc) -> None:  # noqa: ANN001 - pytest's Metafunc
    """Parametrize `db_url` over both databases where a module or test opts in."""
    if "db_url" not in metafunc.fixturenames:
        return
    module = Path(metafunc.module.__file__).resolve().relative_to(REPO).as_posix()
    marked = metafunc.definition.get_closest_marker("both_databases") is not None
    opted = marked or module in BOTH_DATABASES_MODULES
    if not opted or metafunc.definition.get_closest_marker("sqlite_only") is not None:
        return
    if metafunc.definition.originalname in SQLITE_ONLY_TESTS:
        return
    metafunc.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def db_url(request, tmp_path) -> str:
    """The test's store: a SQLite file, or (parametrized "postgresql") a fresh database on
    the session's throwaway PostgreSQL cluster, already migrated."""
    if getattr(request, "param", "sqlite") == "postgresql":
        return request.getfixturevalue("postgres_url")
    return f"sqlite:///{tmp_path / 'store.db'}"


def _no_postgres(reason: str) -> None:
    """Outside CI a missing server skips the PostgreSQL tests; under CI=true it fails."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL tests cannot run under CI: {reason}")
    pytest.skip(f"no PostgreSQL server for the tests: {reason}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A server URL without a database name: $PREFLENS_TEST_POSTGRES_URL (an existing
    server, its user allowed to create databases), else a throwaway cluster started from
    the local PostgreSQL binaries on a free port (trust auth, fsync off), stopped at the end.
    A template database migrated once makes each test's database a cheap copy."""
    given = TEST_POSTGRES_URL
    cluster = None
    if given:
        server = given.rstrip("/")
    else:
        try:
            cluster = PostgresCluster.start()
        except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
            _no_postgres(str(exc))
        server = cluster.url
    try:
        _admin(server, "DROP DATABASE IF EXISTS preflens_template")
        _admin(server, "CREATE DATABASE preflens_template")
        from db.migrate import upgrade

        upgrade(f"{server}/preflens_template")
    except Exception as exc:  # noqa: BLE001 - any failure means: no usable server
        if cluster is not None:
            cluster.stop()
        _no_postgres(f"{type(exc).__name__}: {exc}")
    yield server
    if cluster is not None:
        cluster.stop()


@pytest.fixture
def postgres_url(postgres_server) -> Iterator[str]:
    """A fresh, migrated database of its own for one test (dropped afterwards)."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    _admin(postgres_server, f"CREATE DATABASE {name} TEMPLATE preflens_template")
    yield f"{postgres_server}/{name}"
    _clear_caches()  # engines hold connections to the database dropped next
    _admin(postgres_server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _admin(server: str, statement: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


class PostgresCluster:
    """A throwaway PostgreSQL cluster in a temporary folder (initdb refuses to run as root,
    so as root it runs as the `postgres` user)."""

    def __init__(self, root: Path, bindir: Path, port: int, as_user: list[str]) -> None:
        self.root, self.bindir, self.port, self.as_user = root, bindir, port, as_user
        self.url = f"postgresql+psycopg://pl@127.0.0.1:{port}"

    @staticmethod
    def bindir() -> Path:
        found = [Path(PG_BINDIR)] if PG_BINDIR else []
        found += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: p.parent.name)[
            ::-1
        ]
        for path in found:
            if (path / "initdb").exists() and (path / "pg_ctl").exists():
                return path
        raise RuntimeError("no initdb / pg_ctl (apt-get install postgresql, or PREFLENS_PG_BINDIR)")

    @classmethod
    def start(cls) -> PostgresCluster:
        bindir = cls.bindir()
        root = Path(tempfile.mkdtemp(prefix="preflens-pg-"))
        as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(root, "postgres")
            as_user = ["runuser", "-u", "postgres", "--"]
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        cluster = cls(root, bindir, port, as_user)
        cluster._run("initdb", "-D", str(root / "data"), "-A", "trust", "-U", "pl", "--no-sync")
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
        options += "-c synchronous_commit=off -c full_page_writes=off"
        try:
            cluster._run(
                "pg_ctl",
                "-D",
                str(root / "data"),
                "-o",
                options,
                "-l",
                str(root / "log"),
                "-w",
                "-t",
                "60",
                "start",
            )
        except RuntimeError:
            shutil.rmtree(root, ignore_errors=True)
            raise
        return cluster

    def _run(self, tool: str, *args: str) -> None:
        cmd = [*self.as_user, str(self.bindir / tool), *args]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            log = self.root / "log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr[-2000:]}{tail}")

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


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
