"""``preflens train-rm`` and ``preflens train-dpo``."""

from __future__ import annotations

import argparse

from preflens.cli.commands.base import Command, open_store, set_threads
from preflens.cli.options import add_config_arguments, config_from_args
from preflens.cli.output import out, print_rm_training, print_training_summary


class TrainRMCommand(Command):
    name = "train-rm"
    help = "train a reward model (Bradley-Terry)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        from training.configs import RMTrainConfig

        add_config_arguments(parser, RMTrainConfig)

    def run(self, args: argparse.Namespace) -> int:
        from training.configs import RMTrainConfig
        from training.jobs.train_rm import train_rm

        set_threads()
        result = train_rm(open_store(), config_from_args(RMTrainConfig, args))
        if result.reused:
            out("training already finished; reused the checkpoint")
        print_rm_training(result.run)
        return 0


class TrainDPOCommand(Command):
    name = "train-dpo"
    help = "train a policy with DPO, IPO, hinge, SimPO or ORPO"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        from training.configs import DPOTrainConfig

        add_config_arguments(parser, DPOTrainConfig)

    def run(self, args: argparse.Namespace) -> int:
        from training.configs import DPOTrainConfig
        from training.jobs.train_dpo import train_dpo

        set_threads()
        result = train_dpo(open_store(), config_from_args(DPOTrainConfig, args))
        if result.reused:
            out("training already finished; reused the checkpoint")
        print_training_summary(result.run)
        return 0
