"""``preflens score``: score both responses of every pair with a reward model."""

from __future__ import annotations

import argparse

from preflens.cli.commands.base import Command, open_store, set_threads
from preflens.cli.options import add_config_arguments, config_from_args
from preflens.cli.output import out, print_score_summary


class ScoreCommand(Command):
    name = "score"
    help = "score both responses of every pair with a reward model"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        from training.configs import ScoreConfig

        add_config_arguments(parser, ScoreConfig)

    def run(self, args: argparse.Namespace) -> int:
        from training.configs import ScoreConfig
        from training.jobs.score import score_from_config

        set_threads()
        cfg = config_from_args(ScoreConfig, args)
        result = score_from_config(open_store(), cfg)
        run = result.run
        state = "already complete, reused" if result.reused else f"scored {result.done_now} pairs"
        out(f"score run {run.id} ({state}) on split {run.split or 'all'} of {cfg.dataset}")
        print_score_summary(run.summary or {}, "  ")
        return 0
