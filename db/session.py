"""Engines and sessions, created once per process.

SQLite gets WAL (readers do not block the writer), foreign keys and a busy timeout,
following the habits of datasette's ``database.py``. Any other URL (PostgreSQL) is
used as it is. Query helpers take a ``Session`` and never commit: callers own
transactions.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from preflens.config import get_settings


def shown_url(url: str) -> str:
    """The database URL with any password masked (for messages, logs and pages)."""
    return make_url(url).render_as_string(hide_password=True)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(
    url: str, *, readonly: bool = False, busy_timeout_ms: int = 30_000, foreign_keys: bool = True
) -> Engine:
    """Create an engine; for SQLite, create the file's folder and set the pragmas.

    ``foreign_keys=False`` is for migrations only: SQLite's batch mode copies and drops
    tables, and with foreign keys on, dropping a table cascades into its children.
    """
    if not is_sqlite(url):
        return create_engine(url, pool_pre_ping=True)
    parsed = make_url(url)
    database = parsed.database
    if not database or database == ":memory:":
        raise ValueError("PrefLens needs a SQLite file, not an in-memory database")
    connect_args: dict = {"timeout": busy_timeout_ms / 1000, "check_same_thread": False}
    if readonly:
        # URI mode makes SQLite refuse every write on this connection.
        url = f"sqlite:///file:{Path(database).resolve()}?mode=ro&uri=true"
    else:
        Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args=connect_args)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001 - DB-API objects
        cur = dbapi_conn.cursor()
        if not readonly:
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.close()

    return engine


@lru_cache(maxsize=8)
def get_engine(url: str | None = None, readonly: bool = False) -> Engine:
    """The process-wide engine for ``url`` (default: the settings' database)."""
    settings = get_settings()
    return make_engine(
        url or settings.resolved_database_url,
        readonly=readonly,
        busy_timeout_ms=settings.sqlite_busy_timeout_ms,
    )


@lru_cache(maxsize=8)
def get_sessionmaker(url: str | None = None) -> sessionmaker[Session]:
    return sessionmaker(get_engine(url), expire_on_commit=False)


@contextmanager
def writing(make_session: sessionmaker[Session]) -> Iterator[Session]:
    """One write transaction: commit on success, roll back on error (interrupts too).
    The only place a job's writes are committed."""
    session = make_session()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
