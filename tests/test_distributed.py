"""Data-parallel runs under `accelerate launch` with two CPU processes (gloo)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest
from sqlalchemy import select

from db.schema import Metric, Pair, PairScore, Run
from preflens.cli.main import main
from tests.conftest import REPO
from tests.factories import trl_rows, write_jsonl
from tests.training.test_train_rm import easy_rows


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(args: list[str], db_url: str, tmp_path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PREFLENS_DATABASE_URL": db_url,
        "PREFLENS_DATA_DIR": str(tmp_path),
        "OMP_NUM_THREADS": "1",
    }
    cmd = [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--num_processes",
        "2",
        "--cpu",
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
        "--main_process_port",
        str(free_port()),
        "-m",
        "preflens",
        *args,
    ]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def _scores(url: str) -> dict[str, tuple]:
    from db.session import make_engine

    with make_engine(url).connect() as conn:
        rows = conn.execute(
            select(
                Pair.content_hash,
                PairScore.score_chosen,
                PairScore.score_rejected,
                PairScore.tokens_chosen,
            ).join(Pair, Pair.id == PairScore.pair_id)
        ).all()
    return {h: rest for h, *rest in rows}


def test_two_process_scoring_stores_the_same_rows(tmp_path, tiny_lm, monkeypatch):
    data = write_jsonl(tmp_path / "toy.jsonl", trl_rows(13))
    one, two = f"sqlite:///{tmp_path / 'one.db'}", f"sqlite:///{tmp_path / 'two.db'}"
    from preflens.config import get_settings

    for url in (two, one):  # ends pointing at `one` for the single-process score below
        monkeypatch.setenv("PREFLENS_DATABASE_URL", url)
        get_settings.cache_clear()
        assert main(["ingest", str(data), "--split", "test"]) == 0
    assert main(["score", "--model", str(tiny_lm), "--dataset", "toy", "--batch-size", "2"]) == 0
    launch(
        ["score", "--model", str(tiny_lm), "--dataset", "toy", "--batch-size", "2"], two, tmp_path
    )
    a, b = _scores(one), _scores(two)
    assert len(a) == len(b) == 13 and a.keys() == b.keys()
    for key in a:
        assert a[key][2] == b[key][2]
        assert a[key][0] == pytest.approx(b[key][0], abs=1e-5)
        assert a[key][1] == pytest.approx(b[key][1], abs=1e-5)
    from db.session import make_engine

    with make_engine(two).connect() as conn:
        run = conn.execute(select(Run.status, Run.summary)).one()
    summary = run.summary if isinstance(run.summary, dict) else json.loads(run.summary)
    assert run.status == "done" and summary["pairs"] == 13


def test_two_process_reward_model_training(tmp_path, tiny_lm, monkeypatch):
    url = f"sqlite:///{tmp_path / 'ddp.db'}"
    monkeypatch.setenv("PREFLENS_DATABASE_URL", url)
    from preflens.config import get_settings

    get_settings.cache_clear()
    rows = easy_rows(16, "train") + easy_rows(4, "test", start=100)
    assert main(["ingest", str(write_jsonl(tmp_path / "easy.jsonl", rows)), "--name", "easy"]) == 0
    out = tmp_path / "rm"
    launch(
        [
            "train-rm",
            "--model",
            str(tiny_lm),
            "--dataset",
            "easy",
            "--max-steps",
            "2",
            "--batch-size",
            "4",
            "--logging-steps",
            "1",
            "--max-length",
            "64",
            "--output",
            str(out),
        ],
        url,
        tmp_path,
    )
    from db.session import make_engine

    with make_engine(url).connect() as conn:
        runs = dict(conn.execute(select(Run.kind, Run.status)).all())
        names = set(conn.execute(select(Metric.name)).scalars())
        n_scores = conn.execute(select(PairScore.id)).all()
    assert runs["train_rm"] == "done" and runs["score"] == "done"
    assert "train/loss" in names and "eval/accuracy" in names
    assert len(n_scores) == 8  # before and after, 4 test pairs each, no duplicates
    assert (out / "model.safetensors").exists() and (out / "run.json").exists()


def test_zero2_config_loads_through_accelerate():
    """configs/accelerate_zero2.yaml and the DeepSpeed JSON it names parse with
    accelerate's own config classes (no DeepSpeed needed): a DeepSpeed cluster config and
    a ZeRO stage-2 plugin whose "auto" values accelerate fills from the trainer."""
    from accelerate.commands.config.config_args import ClusterConfig, load_config_from_file
    from accelerate.utils import DeepSpeedPlugin, DistributedType

    config = load_config_from_file(str(REPO / "configs" / "accelerate_zero2.yaml"))
    assert isinstance(config, ClusterConfig)
    assert config.distributed_type == DistributedType.DEEPSPEED and not config.use_cpu
    ds_file = REPO / config.deepspeed_config["deepspeed_config_file"]  # relative to the repo
    assert ds_file.exists() and json.loads(ds_file.read_text())["zero_optimization"]["stage"] == 2
    plugin = DeepSpeedPlugin(hf_ds_config=str(ds_file))
    assert plugin.zero_stage == 2 and plugin.hf_ds_config.is_zero2()
    assert plugin.hf_ds_config.get_value("train_micro_batch_size_per_gpu") == "auto"
    assert not plugin.hf_ds_config.is_offload()
