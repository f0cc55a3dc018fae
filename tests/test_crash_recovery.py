"""Real processes: a job killed with SIGKILL shows as interrupted and resumes with exactly
one row per item; two identical jobs started at once share one run without an error."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db import read
from db.schema import Generation, Metric, Pair, PairScore, Run
from tests.conftest import REPO
from tests.factories import trl_rows, write_jsonl


def cli(*args: str) -> subprocess.Popen:
    """``preflens ARGS`` in a new process (the test's PREFLENS_* environment)."""
    return subprocess.Popen(
        [sys.executable, "-m", "preflens", *args],
        cwd=REPO,
        env={**os.environ, "TOKENIZERS_PARALLELISM": "false"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen, timeout: float = 300) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def count(store, table, *where) -> int:
    with store() as s:
        return s.scalar(select(func.count()).select_from(table).where(*where)) or 0


def kill_when(proc: subprocess.Popen, ready, timeout: float = 240) -> None:
    """SIGKILL ``proc`` as soon as ``ready()`` holds (the job is part-way)."""
    start = time.monotonic()
    while not ready():
        assert proc.poll() is None, f"the job ended before it could be killed: {finish(proc)}"
        assert time.monotonic() - start < timeout, "the job never got part-way"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


@pytest.fixture
def store(tmp_path, monkeypatch):
    """The store the child processes write: the test's own SQLite file."""
    from db.migrate import upgrade
    from db.session import get_sessionmaker

    url = f"sqlite:///{tmp_path / 'crash.db'}"
    monkeypatch.setenv("PREFLENS_DATABASE_URL", url)
    upgrade(url)
    return get_sessionmaker(url)


@pytest.fixture
def data(tmp_path, store):
    path = write_jsonl(tmp_path / "d.jsonl", trl_rows(40))
    proc = cli("ingest", str(path), "--split", "test")
    assert finish(proc)[0] == 0
    return "d"


def _run_status(store, kind: str) -> tuple[int, str]:
    with store() as s:
        run = s.scalars(select(Run).where(Run.kind == kind)).one()
        return run.id, read.run_dict(run)["status"]


def kill_and_rerun(store, kind: str, args: tuple[str, ...], ready) -> None:
    """Start ``preflens ARGS``, SIGKILL it once ``ready()`` holds, check its run shows
    ``interrupted``, and run the same command again to a clean exit."""
    kill_when(cli(*args), ready)
    assert _run_status(store, kind)[1] == "interrupted"
    code, _, err = finish(cli(*args))
    assert code == 0, err


def run_twice_at_once(store, kind: str, args: tuple[str, ...]):
    """Two identical ``preflens ARGS`` started together: both exit 0 and leave one finished
    run of ``kind``; returns it (detached) and each process's (code, stdout, stderr)."""
    results = [finish(p) for p in (cli(*args), cli(*args))]
    assert [r[0] for r in results] == [0, 0], [r[2][-800:] for r in results]
    with store() as s:
        (run,) = s.scalars(select(Run).where(Run.kind == kind)).all()
    assert run.status == "done" and run.error is None
    return run, results


def test_killed_score_job_is_interrupted_then_resumes_exactly(store, data, tiny_lm):
    args = ("score", "--model", str(tiny_lm), "--dataset", data, "--batch-size", "1")
    proc = cli(*args)
    kill_when(proc, lambda: count(store, PairScore) >= 3)
    run_id, status = _run_status(store, "score")
    assert status == "interrupted"  # its owner is gone
    done_before = count(store, PairScore)
    assert 3 <= done_before < 40
    code, out, err = finish(cli(*args))
    assert code == 0, err
    assert f"score run {run_id} (scored {40 - done_before} pairs)" in out
    with store() as s:
        pair_ids = s.scalars(select(PairScore.pair_id).where(PairScore.run_id == run_id)).all()
        assert sorted(pair_ids) == sorted(s.scalars(select(Pair.id)).all())  # one row each
        run = s.get(Run, run_id)
        assert run.status == "done" and run.error is None and run.owner is None


def test_two_identical_score_jobs_share_one_run(store, data, tiny_lm):
    args = ("score", "--model", str(tiny_lm), "--dataset", data, "--batch-size", "2")
    _, results = run_twice_at_once(store, "score", args)
    assert count(store, PairScore) == 40  # exactly one row per pair
    # One scored the pairs; the other waited for it and reused the finished run.
    assert sum("already complete, reused" in r[1] for r in results) == 1


@pytest.mark.slow
def test_killed_generation_resumes_with_one_answer_per_prompt(store, data, stopping_lm):
    args = ("generate", "--policy", f"a={stopping_lm}", "--dataset", data)
    args += ("--batch-size", "1", "--max-new-tokens", "4", "--temperature", "0")
    kill_and_rerun(store, "generate", args, lambda: count(store, Generation) >= 2)
    with store() as s:
        rows = s.execute(select(Generation.pair_id, Generation.policy)).all()
    assert len(rows) == len(set(rows)) == 40


@pytest.mark.slow
def test_killed_training_resumes_and_finishes(store, data, tiny_lm, tmp_path):
    args = ("train-rm", "--model", str(tiny_lm), "--dataset", data, "--train-split", "test")
    args += ("--batch-size", "1", "--logging-steps", "1", "--output", str(tmp_path / "rm"))
    args += ("--no-score-before", "--no-score-after")
    kill_and_rerun(store, "train_rm", args, lambda: count(store, Metric) >= 2)
    run_id, status = _run_status(store, "train_rm")
    assert status == "done" and (tmp_path / "rm" / "run.json").is_file()
    with store() as s:
        steps = s.execute(select(Metric.name, Metric.step).where(Metric.run_id == run_id)).all()
    assert len(steps) == len(set(steps))  # a restarted run logs each step once


@pytest.mark.slow
def test_killed_ingest_resumes_without_doubles(store, tmp_path):
    path = write_jsonl(tmp_path / "big.jsonl", trl_rows(30000))
    proc = cli("ingest", str(path), "--name", "big")
    kill_when(proc, lambda: count(store, Pair) >= 1000, timeout=120)
    assert count(store, Pair) < 30000
    code, out, err = finish(cli("ingest", str(path), "--name", "big"))
    assert code == 0, err
    with store() as s:
        hashes = s.scalars(select(Pair.content_hash)).all()
    assert len(hashes) == len(set(hashes)) == 30000
    assert Path(path).is_file()


def test_commands_started_together_on_a_new_store_migrate_once(tmp_path, monkeypatch):
    monkeypatch.setenv("PREFLENS_DATABASE_URL", f"sqlite:///{tmp_path / 'new.db'}")
    procs = [cli("db", "upgrade") for _ in range(3)]
    results = [finish(p) for p in procs]
    assert [r[0] for r in results] == [0, 0, 0], [r[2][-500:] for r in results]
    assert all("Traceback" not in r[2] for r in results)


@pytest.mark.slow
def test_two_identical_generation_jobs_share_one_run(store, data, stopping_lm):
    args = ("generate", "--policy", f"a={stopping_lm}", "--dataset", data, "--limit", "12")
    args += ("--batch-size", "2", "--max-new-tokens", "4", "--temperature", "0")
    run_twice_at_once(store, "generate", args)
    with store() as s:
        rows = s.execute(select(Generation.pair_id, Generation.policy)).all()
    assert len(rows) == len(set(rows)) == 12


@pytest.mark.slow
def test_two_identical_training_jobs_share_one_run(store, data, tiny_lm, tmp_path):
    args = ("train-rm", "--model", str(tiny_lm), "--dataset", data, "--train-split", "test")
    args += ("--limit", "8", "--batch-size", "4", "--output", str(tmp_path / "rm"))
    args += ("--no-score-before", "--no-score-after")
    _, results = run_twice_at_once(store, "train_rm", args)
    assert sum("reused the checkpoint" in r[1] for r in results) == 1
