"""``preflens probe`` (counterfactual edits scored by an RM) and ``preflens score-dpo``
(per-pair log-probs and implicit rewards of a DPO policy)."""

from __future__ import annotations

import argparse
import dataclasses

from preflens.cli.commands.base import Command, open_store, set_threads
from preflens.cli.options import add_config_arguments, config_from_args
from preflens.cli.options import split_filter as _split


class ProbeCommand(Command):
    name = "probe"
    help = "score counterfactual edits of both responses of N pairs with a reward model"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        from training.probe_configs import ProbeConfig

        add_config_arguments(parser, ProbeConfig, skip=("edits",))
        edits = {f.name: f for f in dataclasses.fields(ProbeConfig)}["edits"]
        parser.add_argument("--edits", nargs="+", metavar="EDIT", help=edits.metadata["help"])

    def run(self, args: argparse.Namespace) -> int:
        from preflens.cli.output import print_lines
        from preflens.cli.probe_output import probe_run_lines
        from training.jobs.probe import run_probe_job
        from training.probe_configs import ProbeConfig

        set_threads()
        cfg = config_from_args(ProbeConfig, args)
        result = run_probe_job(
            open_store(),
            cfg.model,
            cfg.dataset,
            _split(cfg.split),
            edits=cfg.edits,
            edits_file=cfg.edits_file,
            limit=cfg.limit,
            batch_size=cfg.batch_size,
            max_length=cfg.max_length,
            head_seed=cfg.head_seed,
        )
        print_lines(probe_run_lines(result))
        return 0


class ScoreDpoCommand(Command):
    name = "score-dpo"
    help = "per-pair log-probs and implicit rewards of a DPO policy against its reference"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        from training.probe_configs import ScoreDpoConfig

        add_config_arguments(parser, ScoreDpoConfig)

    def run(self, args: argparse.Namespace) -> int:
        from preflens.cli.output import print_lines
        from preflens.cli.probe_output import score_dpo_run_lines
        from training.jobs.score_dpo import run_score_dpo_job
        from training.probe_configs import ScoreDpoConfig

        set_threads()
        cfg = config_from_args(ScoreDpoConfig, args)
        reference = None if cfg.reference.strip().lower() == "none" else cfg.reference
        result = run_score_dpo_job(
            open_store(),
            cfg.policy,
            reference,
            cfg.dataset,
            _split(cfg.split),
            beta=cfg.beta,
            limit=cfg.limit,
            batch_size=cfg.batch_size,
            max_length=cfg.max_length,
        )
        print_lines(score_dpo_run_lines(result))
        return 0
