"""Apply Alembic migrations programmatically (``preflens db upgrade`` and every job)."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


@contextmanager
def _migration_lock(url: str, conn) -> Iterator[None]:  # noqa: ANN001 - a Connection
    """One migrating process at a time per database: two commands started at once on a
    new store would both create the tables. SQLite: an exclusive lock on a file beside
    the database; PostgreSQL: a session advisory lock."""
    from db.session import is_sqlite

    if is_sqlite(url):
        database = make_url(url).database
        lock_path = Path(database).expanduser().resolve().with_suffix(".migrate-lock")
        with lock_path.open("a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
        return
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SELECT pg_advisory_lock(727431)")
        try:
            yield
        finally:
            conn.exec_driver_sql("SELECT pg_advisory_unlock(727431)")
        return
    yield


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` up to ``revision`` (creates a SQLite file if needed).
    Safe when several processes start at once: they migrate one after another, and a
    process that finds the schema current does nothing."""
    from db.session import is_sqlite, make_engine

    cfg = alembic_config(url)
    engine = make_engine(url, foreign_keys=False)
    try:
        with engine.connect() as lock_conn, _migration_lock(url, lock_conn):
            lock_conn.commit()  # the advisory lock is held by the session, not a transaction
            with engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
                if is_sqlite(url):
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"migration left broken foreign keys: {broken[:5]}")
    finally:
        engine.dispose()


def current_revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    from db.session import get_engine

    with get_engine(url).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def open_store(url: str | None = None) -> sessionmaker[Session]:
    """The store at ``url`` (default: the settings' database, as every command uses),
    migrated to the newest schema, as the process-wide sessionmaker."""
    from db.session import get_sessionmaker
    from preflens.config import get_settings

    url = url or get_settings().resolved_database_url
    upgrade(url)
    return get_sessionmaker(url)
