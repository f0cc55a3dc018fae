"""Damaged or incomplete checkpoint folders: every one is a ``ModelError`` whose one-line
message names the folder and what is wrong, through the loaders and through the command
line (exit 2, one line on stderr, no traceback)."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from preflens.errors import ModelError

WEIGHTS = "model.safetensors"
PROGRESS_BAR = re.compile(r"generating:\s+\d+%\|[^|]*\|[^\]]*\]\s*")


def _truncate(fraction: float) -> Callable[[Path], None]:
    def cut(folder: Path) -> None:
        data = (folder / WEIGHTS).read_bytes()
        (folder / WEIGHTS).write_bytes(data[: int(len(data) * fraction)])

    return cut


def _random_bytes(folder: Path) -> None:
    size = (folder / WEIGHTS).stat().st_size
    (folder / WEIGHTS).write_bytes(os.urandom(size))


def _no_weights(folder: Path) -> None:
    (folder / WEIGHTS).unlink()


def _no_tokenizer(folder: Path) -> None:
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (folder / name).unlink(missing_ok=True)


def _bad_tokenizer_json(folder: Path) -> None:
    (folder / "tokenizer.json").write_text("{not json", encoding="utf-8")


def _bad_config(folder: Path) -> None:
    (folder / "config.json").write_text("{oops", encoding="utf-8")


def _shapes_differ(folder: Path) -> None:
    config = json.loads((folder / "config.json").read_text())
    config |= {"hidden_size": 64, "intermediate_size": 128}
    (folder / "config.json").write_text(json.dumps(config))


def _missing_shard(folder: Path) -> None:
    (folder / WEIGHTS).unlink()
    index = {"metadata": {}, "weight_map": {"lm_head.weight": "model-00001-of-00002.safetensors"}}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))


# (damage, words the message must hold besides the folder)
CASES = {
    "truncated-header": (_truncate(0.005), ["model.safetensors", "damaged"]),
    "truncated-half": (_truncate(0.5), ["model.safetensors", "damaged", "truncated"]),
    "empty-weights": (_truncate(0.0), ["model.safetensors", "too short"]),
    "random-bytes": (_random_bytes, ["model.safetensors", "damaged"]),
    "no-weights": (_no_weights, ["no weights"]),
    "missing-shard": (_missing_shard, ["shard", "missing"]),
    "no-tokenizer": (_no_tokenizer, ["no tokenizer files"]),
    "bad-tokenizer-json": (_bad_tokenizer_json, ["tokenizer"]),
    "bad-config": (_bad_config, ["config.json", "not readable JSON"]),
    "shapes-differ": (_shapes_differ, ["weights do not fit config.json"]),
}


@pytest.fixture(params=sorted(CASES))
def bad(request, tiny_lm, tmp_path) -> tuple[Path, list[str]]:
    """A copy of the tiny checkpoint, damaged one way, and the words its error must hold."""
    damage, words = CASES[request.param]
    folder = tmp_path / f"ckpt-{request.param}"
    shutil.copytree(tiny_lm, folder)
    damage(folder)
    return folder, words


def _one_line(message: str, folder: Path, words: list[str]) -> None:
    assert "\n" not in message and "Traceback" not in message
    assert str(folder) in message, message
    for word in words:
        assert word in message, (word, message)


def test_loaders_raise_one_line_model_errors(bad):
    from training.loading import load_policy, load_reward_model

    folder, words = bad
    for load in (load_reward_model, load_policy):
        with pytest.raises(ModelError) as info:
            load(str(folder), device="cpu")
        _one_line(str(info.value), folder, words)


def test_the_intact_checkpoint_still_loads(tiny_lm):
    from training.fetch import check_checkpoint, safetensors_problem
    from training.loading import load_policy, load_reward_model

    assert safetensors_problem(tiny_lm / WEIGHTS) is None
    check_checkpoint(tiny_lm)
    assert load_reward_model(str(tiny_lm), device="cpu").head_initialized
    assert load_policy(str(tiny_lm), device="cpu").model.config.hidden_size == 32


@pytest.fixture
def cli_store(store, db_url, tmp_path, monkeypatch):
    """The command line's store is the test's SQLite file, holding a 3-pair dataset."""
    from preflens.config import get_settings
    from tests.factories import ingest_test_split

    monkeypatch.setenv("PREFLENS_DATABASE_URL", db_url)
    get_settings.cache_clear()
    ingest_test_split(store, tmp_path, "tiny", 3)
    return store


@pytest.mark.parametrize(
    "command",
    [
        ["score", "--model", "{model}", "--dataset", "tiny"],
        ["generate", "--policy", "p={model}", "--dataset", "tiny", "--max-new-tokens", "4"],
    ],
    ids=["score", "generate"],
)
def test_the_command_line_prints_one_line_and_exits_2(bad, cli_store, capsys, command):
    from db import read
    from preflens.cli.main import main

    folder, words = bad
    argv = [part.replace("{model}", str(folder)) for part in command]
    assert main(argv) == 2
    # The generate job's progress bar (tqdm, on stderr) is not part of the message.
    err = PROGRESS_BAR.sub("", capsys.readouterr().err).strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("error: ")
    _one_line(err, folder, words)
    with cli_store() as session:  # no run is left looking alive or finished
        assert all(r["status"] == "failed" for r in read.list_runs(session))
