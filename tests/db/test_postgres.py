"""PostgreSQL for real: text search through the tsvector column and its GIN index agrees
with SQLite's FTS5, the migrations carry rows from 0001 to head, value series round-trip,
and two jobs in two processes write one store.

Runs on the session's throwaway cluster (tests/conftest.py `postgres_server`); skipped
with a reason outside CI when no server can start, failed under CI=true.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, func, select, text

from db import read
from db.migrate import upgrade
from db.schema import Pair, PairScore, Run, RunValues
from db.session import make_engine
from tests.backend.seed import add_pair, seed_store
from tests.conftest import REPO

QUERIES = [
    "apple",
    "APPLE",
    "harvest",
    "careful answer",
    "Question 7",
    "banana harvest",
    "detail",
    "reply 12",
    "nonexistentword",
    "cherry careless",
]


def _stores(tmp_path, postgres_url):
    from sqlalchemy.orm import sessionmaker

    sqlite = f"sqlite:///{tmp_path / 'fts.db'}"
    makes = {}
    for name, url in (("sqlite", sqlite), ("postgresql", postgres_url)):
        upgrade(url)
        makes[name] = sessionmaker(make_engine(url), expire_on_commit=False)
    return makes


def test_text_search_on_postgresql_matches_sqlite_fts5(tmp_path, postgres_url):
    makes = _stores(tmp_path, postgres_url)
    seeded = {name: seed_store(make) for name, make in makes.items()}
    hits = {}
    for query in QUERIES:
        found = {}
        for name, make in makes.items():
            with make() as s:
                found[name] = all_ids(s, seeded[name].score_run, q=query)
        assert found["postgresql"] == found["sqlite"], query
        hits[query] = len(found["sqlite"])
    assert hits["apple"] == hits["APPLE"] > 0 and hits["nonexistentword"] == 0
    assert 0 < hits["banana harvest"] < hits["harvest"]


def all_ids(session, run_id: int, **kw) -> list[int]:
    ids, cursor = [], None
    while True:
        page = read.search_cases(session, run_id, limit=7, cursor=cursor, **kw)
        ids += [item["pair_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return ids


def test_search_vector_follows_inserts_and_uses_the_gin_index(postgres_url):
    from sqlalchemy.orm import sessionmaker

    upgrade(postgres_url)
    make = sessionmaker(make_engine(postgres_url), expire_on_commit=False)
    seeded = seed_store(make)
    with make() as s:
        pair = add_pair(s, seeded.dataset_id, 999)
        pair.chosen = "A zanzibar-flavoured answer."
        s.add(
            PairScore(
                run_id=seeded.score_run,
                pair_id=pair.id,
                category=None,
                score_chosen=1.0,
                score_rejected=0.0,
                gap=1.0,
                tokens_chosen=1,
                tokens_rejected=1,
            )
        )
        s.commit()
        vector = s.scalar(
            text("SELECT search_vector::text FROM pair WHERE id = :i"), {"i": pair.id}
        )
        assert "'zanzibar'" in vector  # the generated column filled itself on insert
        assert all_ids(s, seeded.score_run, q="zanzibar") == [pair.id]
        s.execute(text("SET enable_seqscan = off"))
        plan = "\n".join(
            s.scalars(
                text(
                    "EXPLAIN SELECT id FROM pair WHERE search_vector @@ "
                    "phraseto_tsquery('simple', 'zanzibar')"
                )
            )
        )
    assert "ix_pair_search_vector" in plan


def test_upgrade_from_0001_keeps_rows_on_postgresql(postgres_server):
    """The data steps of 0002 and 0003 (split and lengths copied beside scores, prompt
    hashes, the generated search column) on a database that holds rows."""
    from tests.conftest import _admin

    name = "upgrade_rows"
    _admin(postgres_server, f"DROP DATABASE IF EXISTS {name}")
    _admin(postgres_server, f"CREATE DATABASE {name}")
    url = f"{postgres_server}/{name}"
    upgrade(url, "0001")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO dataset (id, name, source, format, options, created_at)"
            " VALUES (1, 'd', 's', 'trl', '{}', '2026-01-01')"
        )
        conn.exec_driver_sql(
            "INSERT INTO pair (id, dataset_id, split, source_row, prompt, prompt_text, chosen,"
            " rejected, content_hash) VALUES (1, 1, 'test', 1, '[]', 'p', 'good words', 'r', 'h')"
        )
        conn.exec_driver_sql(
            "INSERT INTO run (id, kind, key, status, progress, config, created_at)"
            " VALUES (1, 'score', 'k', 'done', 1, '{}', '2026-01-01')"
        )
        conn.exec_driver_sql(
            "INSERT INTO pair_score (run_id, pair_id, score_chosen, score_rejected, gap,"
            " tokens_chosen, tokens_rejected, truncated_chosen, truncated_rejected)"
            " VALUES (1, 1, 1, 0, 1, 2, 2, false, false)"
        )
    engine.dispose()
    upgrade(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        split, chars = conn.execute(text("SELECT split, chars_chosen FROM pair_score")).one()
        found = (
            conn.execute(
                text(
                    "SELECT id FROM pair WHERE search_vector @@ plainto_tsquery('simple', 'words')"
                )
            )
            .scalars()
            .all()
        )
    engine.dispose()
    _admin(postgres_server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    assert (split, chars, found) == ("test", len("good words"), [1])


def test_value_series_round_trip_and_index_only_split_filter(postgres_url):
    """A finished run's series stored as bytea read back bit for bit; the split filter
    reads pair_score.split where every row carries it."""
    from sqlalchemy.orm import sessionmaker

    from db.runs import finish_run

    upgrade(postgres_url)
    make = sessionmaker(make_engine(postgres_url), expire_on_commit=False)
    seeded = seed_store(make)
    with make() as s:
        run = s.get(Run, seeded.score_run)
        run.status = "running"
        s.execute(
            PairScore.__table__.update()
            .where(PairScore.run_id == run.id)
            .values(split=select(Pair.split).where(Pair.id == PairScore.pair_id).scalar_subquery())
        )
        finish_run(s, run.id, read.score_summary(s, run.id))
        s.commit()
        stored = s.scalar(
            select(func.count()).where(
                RunValues.run_id == run.id, RunValues.series.in_(["chosen", "rejected", "gap"])
            )
        )
        h = read.histogram(s, run.id, "gap", 7)
        tests = all_ids(s, run.id, split="test")
    gaps = sorted(seeded.gaps.values())
    assert stored == 3 and sum(h["counts"]) == len(gaps) and h["range"] == [gaps[0], gaps[-1]]
    want = sorted(
        (p for p, sp in seeded.splits.items() if sp == "test"), key=lambda p: (-seeded.gaps[p], -p)
    )
    assert tests == want


@pytest.mark.slow
def test_two_score_jobs_in_two_processes_write_one_store(tmp_path, postgres_url, tiny_lm):
    rows = [
        {"prompt": f"Question {i}?", "chosen": f"A good answer {i}.", "rejected": f"No {i}."}
        for i in range(24)
    ]
    data = tmp_path / "toy.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows))
    env = {**os.environ, "PREFLENS_DATABASE_URL": postgres_url, "PREFLENS_DATA_DIR": str(tmp_path)}
    env["PREFLENS_NUM_THREADS"] = "1"
    cli = [sys.executable, "-m", "preflens.cli.main"]

    def run(*args: str) -> subprocess.Popen:
        return subprocess.Popen(
            [*cli, *args],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    ingest = run("ingest", str(data), "--name", "toy", "--split", "test")
    assert ingest.wait(timeout=300) == 0, ingest.stdout.read()
    jobs = [
        run(
            "score",
            "--dataset",
            "toy",
            "--model",
            str(tiny_lm),
            "--head-seed",
            str(seed),
            "--batch-size",
            "2",
        )
        for seed in (1, 2)
    ]
    for job in jobs:
        assert job.wait(timeout=600) == 0, job.stdout.read()
    engine = create_engine(postgres_url)
    with engine.connect() as conn:
        runs = conn.execute(text("SELECT id, status FROM run WHERE kind = 'score'")).all()
        counts = conn.execute(
            text("SELECT run_id, count(*) FROM pair_score GROUP BY run_id ORDER BY run_id")
        ).all()
        series = conn.execute(
            text("SELECT count(*) FROM run_values WHERE series IN ('chosen', 'rejected', 'gap')")
        ).scalar()
    engine.dispose()
    assert sorted(status for _, status in runs) == ["done", "done"]
    assert [n for _, n in counts] == [24, 24] and series == 6
