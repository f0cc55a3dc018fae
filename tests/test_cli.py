"""The command line end to end on a real SQLite file, and the import boundaries."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from preflens.cli.main import main
from tests.conftest import REPO
from tests.factories import trl_rows, write_jsonl


def test_help_and_store_imports_do_not_load_torch():
    code = (
        "import sys, preflens.cli.main, preflens.config, db.schema, db.read, db.session, "
        "db.migrate; preflens.cli.main.build_parser().format_help(); "
        "sys.exit(1 if 'torch' in sys.modules or 'transformers' in sys.modules else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO).returncode == 0


def test_every_subcommand_has_help():
    for argv in (
        ["--help"],
        ["ingest", "--help"],
        ["score", "--help"],
        ["runs", "--help"],
        ["model", "pull", "--help"],
        ["demo", "--help"],
        ["datasets", "--help"],
        ["db", "upgrade", "--help"],
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "preflens", *argv],
            cwd=REPO,
            capture_output=True,
            text=True,
            env=os.environ,
        )
        assert proc.returncode == 0 and "usage: preflens" in proc.stdout


def test_ingest_score_runs_datasets(tmp_path, tiny_lm, capsys):
    data = write_jsonl(
        tmp_path / "toy.jsonl", trl_rows(5) + [{"prompt": "Q", "chosen": "a", "rejected": "a"}]
    )
    assert main(["ingest", str(data), "--split", "test"]) == 0
    assert main(["score", "--model", str(tiny_lm), "--dataset", "toy", "--split", "test"]) == 0
    first = capsys.readouterr().out
    assert "scored 5 pairs" in first and "accuracy" in first
    assert main(["score", "--model", str(tiny_lm), "--dataset", "toy", "--split", "test"]) == 0
    assert "already complete, reused" in capsys.readouterr().out
    assert main(["runs"]) == 0
    runs = capsys.readouterr().out
    assert "score" in runs and "done" in runs and "toy/test" in runs
    assert main(["datasets"]) == 0
    listing = capsys.readouterr().out
    assert "toy" in listing and "rejected 1" in listing and "identical responses" in listing


def test_unknown_dataset_is_a_clear_error(capsys, tiny_lm):
    assert main(["score", "--model", str(tiny_lm), "--dataset", "nope"]) == 2
    assert "no dataset named 'nope'" in capsys.readouterr().err


def test_model_pull_is_idempotent(embedded_model, capsys):
    assert main(["model", "pull"]) == 0
    assert "nothing to do" in capsys.readouterr().out


def test_real_model_scores_demo_pairs(tmp_path, embedded_model, capsys):
    from training.demo_data import build_demo_pairs

    pairs = [p for p in build_demo_pairs() if p["split"] == "test"][:4]
    data = write_jsonl(tmp_path / "few.jsonl", pairs)
    assert main(["ingest", str(data), "--name", "few"]) == 0
    assert (
        main(
            [
                "score",
                "--model",
                "smollm2-135m-instruct",
                "--dataset",
                "few",
                "--split",
                "test",
                "--max-length",
                "256",
            ]
        )
        == 0
    )
    assert "scored 4 pairs" in capsys.readouterr().out


@pytest.mark.slow
def test_demo_command(embedded_model, capsys, store_url_from_settings):
    """The whole demo pipeline on the embedded model; a second run makes no new run."""
    assert main(["demo", "--no-serve"]) == 0
    printed = capsys.readouterr().out
    before = float(printed.split("RM before training: accuracy ")[1][:5])
    after = float(printed.split("RM after training:  accuracy ")[1][:5])
    assert after > before and "n=140 (Wilson 95%)" in printed and "[untrained head]" in printed
    assert "dpo vs base: win rate (W+T/2)/n" in printed and "rewards/margins" in printed
    runs = _runs(store_url_from_settings)
    assert [k for k, _ in runs] == [
        "train_rm",
        "score",
        "score",
        "train_dpo",
        "generate",
        "score_generations",
    ]
    assert all(status == "done" for _, status in runs)
    assert main(["demo", "--no-serve"]) == 0
    assert _runs(store_url_from_settings) == runs


def _runs(url: str) -> list[tuple[str, str]]:
    from sqlalchemy import select

    from db.schema import Run
    from db.session import make_engine

    with make_engine(url).connect() as conn:
        return [tuple(r) for r in conn.execute(select(Run.kind, Run.status).order_by(Run.id))]


@pytest.fixture
def store_url_from_settings() -> str:
    from preflens.config import get_settings

    return get_settings().resolved_database_url
