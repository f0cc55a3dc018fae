"""Migrations on an empty database, SQLite pragmas, constraints and text search."""

from __future__ import annotations

import sqlite3

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError, OperationalError

from db.base import Base
from db.migrate import alembic_config, current_revision, upgrade
from db.schema import Dataset, Pair, PairScore, Run
from db.session import make_engine


def test_migrations_apply_to_empty_database_and_match_models(db_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    upgrade(db_url)
    assert (
        current_revision(db_url)
        == ScriptDirectory.from_config(alembic_config(db_url)).get_current_head()
    )
    engine = make_engine(db_url)
    tables = set(inspect(engine).get_table_names())
    assert {
        "dataset",
        "pair",
        "rejected_row",
        "checkpoint",
        "run",
        "pair_score",
        "metric",
    } <= tables
    with engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn,
            opts={
                "include_object": lambda o, n, t, r, c: (
                    not (t == "table" and n.startswith("pair_fts"))
                )
            },
        )
        assert compare_metadata(ctx, Base.metadata) == []
    indexes = {ix["name"] for ix in inspect(engine).get_indexes("pair_score")}
    assert {"ix_pair_score_run_gap", "ix_pair_score_run_category"} <= indexes
    upgrade(db_url)  # a second upgrade is a no-op


def test_downgrade_then_upgrade(db_url):
    from alembic import command

    from db.migrate import alembic_config

    upgrade(db_url)
    command.downgrade(alembic_config(db_url), "base")
    assert "pair" not in inspect(make_engine(db_url)).get_table_names()
    upgrade(db_url)
    assert "pair" in inspect(make_engine(db_url)).get_table_names()


def test_sqlite_pragmas_and_readonly(db_url, tmp_path):
    upgrade(db_url)
    engine = make_engine(db_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    ro = make_engine(db_url, readonly=True)
    with ro.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM pair")).scalar() == 0
        with pytest.raises(OperationalError, match="readonly"):
            conn.execute(
                text(
                    "INSERT INTO dataset (name, source, format, options, created_at) "
                    "VALUES ('x', 'y', 'trl', '{}', '2026-01-01')"
                )
            )
    with pytest.raises(ValueError, match="in-memory"):
        make_engine("sqlite:///:memory:")


def _pair(ds: Dataset, i: int, **kw) -> Pair:
    return Pair(
        dataset=ds,
        split="test",
        source_row=i,
        prompt=[{"role": "user", "content": "q"}],
        prompt_text=kw.get("prompt_text", f"user: question {i}"),
        chosen=kw.get("chosen", f"good answer {i}"),
        rejected=f"bad answer {i}",
        category="c",
        content_hash=f"h{i}",
    )


def test_constraints_one_score_per_pair_and_foreign_keys(store):
    with store() as s:
        ds = Dataset(name="d", source="x", format="trl", options={})
        pair = _pair(ds, 1)
        run = Run(kind="score", key="k", config={})
        s.add_all([ds, pair, run])
        s.flush()
        row = dict(
            run_id=run.id,
            pair_id=pair.id,
            score_chosen=1.0,
            score_rejected=0.0,
            gap=1.0,
            tokens_chosen=3,
            tokens_rejected=3,
        )
        s.add(PairScore(**row))
        s.flush()
        s.add(PairScore(**row))
        with pytest.raises(IntegrityError):
            s.flush()
        s.rollback()
        s.add(PairScore(**{**row, "pair_id": 999_999, "run_id": 999_999}))
        with pytest.raises(IntegrityError):
            s.flush()


def test_fts_search_follows_inserts_and_deletes(store, db_url):
    with store() as s:
        ds = Dataset(name="d", source="x", format="trl", options={})
        s.add_all([ds, _pair(ds, 1, chosen="the aurora borealis glows"), _pair(ds, 2)])
        s.commit()
    path = db_url.removeprefix("sqlite:///")
    con = sqlite3.connect(path)
    hits = con.execute("SELECT rowid FROM pair_fts WHERE pair_fts MATCH 'borealis'").fetchall()
    assert len(hits) == 1
    con.execute("DELETE FROM pair WHERE id = ?", hits[0])
    con.commit()
    assert (
        con.execute("SELECT count(*) FROM pair_fts WHERE pair_fts MATCH 'borealis'").fetchone()[0]
        == 0
    )


def test_upgrade_keeps_existing_rows(db_url):
    """0001 -> head rebuilds the run table on SQLite; scores that point at runs survive."""
    upgrade(db_url, "0001")
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO dataset (id, name, source, format, options, created_at)"
            " VALUES (1, 'd', 's', 'trl', '{}', '2026-01-01')"
        )
        conn.exec_driver_sql(
            "INSERT INTO pair (id, dataset_id, split, source_row, prompt, "
            "prompt_text, chosen, rejected, content_hash) VALUES "
            "(1, 1, 'test', 1, '[]', 'p', 'c', 'r', 'h')"
        )
        conn.exec_driver_sql(
            "INSERT INTO run (id, kind, key, status, progress, config, "
            "created_at) VALUES (1, 'score', 'k', 'done', 1, '{}', '2026-01-01')"
        )
        conn.exec_driver_sql(
            "INSERT INTO pair_score (run_id, pair_id, score_chosen, "
            "score_rejected, gap, tokens_chosen, tokens_rejected, "
            "truncated_chosen, truncated_rejected) VALUES (1, 1, 1, 0, 1, 2, 2, 0, 0)"
        )
    engine.dispose()
    upgrade(db_url)
    with make_engine(db_url).connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM pair_score").scalar() == 1
        assert conn.exec_driver_sql("SELECT parent_run_id FROM run").scalar() is None
