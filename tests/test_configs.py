"""One source for every default: the job configs. The command line's options are built
from them, and the demo states only what it changes."""

from __future__ import annotations

import dataclasses

import pytest

from preflens.cli.main import build_parser
from preflens.cli.options import config_from_args
from training import configs
from training.jobs import demo

COMMANDS = {
    "train-rm": (configs.RMTrainConfig, ["--dataset", "d"]),
    "train-dpo": (configs.DPOTrainConfig, ["--dataset", "d"]),
    "score": (configs.ScoreConfig, ["--dataset", "d"]),
    "generate": (configs.GenerateConfig, ["--dataset", "d", "--policy", "a=b"]),
    "score-generations": (configs.ScoreGenerationsConfig, ["--rm", "m", "--run", "3"]),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_cli_defaults_are_the_config_defaults(command):
    cls, required = COMMANDS[command]
    args = build_parser().parse_args([command, *required])
    from_cli = config_from_args(cls, args)
    given = {f.name: getattr(from_cli, f.name) for f in dataclasses.fields(cls)}
    direct = cls(**{k: v for k, v in given.items() if k in {"dataset", "rm", "run"}})
    assert from_cli == direct


def test_every_config_field_is_an_option_with_help():
    for command, (cls, _) in COMMANDS.items():
        parser = build_parser()
        sub = next(a for a in parser._actions if a.dest == "command").choices[command]
        dests = {a.dest: a for a in sub._actions}
        for f in dataclasses.fields(cls):
            if command == "score" and f.name == "limit":
                continue
            assert f.name in dests, (command, f.name)
            assert dests[f.name].help, (command, f.name)


def test_a_true_flag_becomes_no_option():
    args = build_parser().parse_args(["train-rm", "--dataset", "d", "--no-score-before"])
    cfg = config_from_args(configs.RMTrainConfig, args)
    assert cfg.score_before is False and cfg.score_after is True


@pytest.mark.parametrize(
    ("overrides", "cls"),
    [
        (demo.RM_DEMO, configs.RMTrainConfig),
        (demo.DPO_DEMO, configs.DPOTrainConfig),
        (demo.GEN_DEMO, configs.GenerateConfig),
    ],
)
def test_the_demo_states_only_what_it_changes(overrides, cls):
    defaults = {f.name: f.default for f in dataclasses.fields(cls)}
    for key, value in overrides.items():
        assert key in defaults, key
        assert value != defaults[key], f"{key}={value!r} is the default already"
