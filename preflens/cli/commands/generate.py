"""``preflens generate`` and ``preflens score-generations``."""

from __future__ import annotations

import argparse

from preflens.cli.commands.base import Command, open_store, set_threads
from preflens.cli.options import add_config_arguments, config_from_args, parse_policies
from preflens.cli.output import out, print_comparison, print_generation_summary


class GenerateCommand(Command):
    name = "generate"
    help = "let named policies answer the prompts of a split"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        from training.configs import GenerateConfig

        parser.add_argument(
            "--policy",
            action="append",
            required=True,
            metavar="NAME=MODEL",
            help="a policy to run (repeatable), e.g. base=smollm2-135m-instruct",
        )
        add_config_arguments(parser, GenerateConfig)

    def run(self, args: argparse.Namespace) -> int:
        from training.configs import GenerateConfig
        from training.jobs.generate import generate_from_config

        set_threads()
        cfg = config_from_args(GenerateConfig, args)
        result = generate_from_config(open_store(), parse_policies(args.policy), cfg)
        run = result.run
        state = "already complete, reused" if result.reused else f"{result.done_now} new answers"
        out(f"generation run {run.id} ({state})")
        print_generation_summary(run.summary or {})
        return 0


class ScoreGenerationsCommand(Command):
    name = "score-generations"
    help = "score a generation run's answers with an RM"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        from training.configs import ScoreGenerationsConfig

        add_config_arguments(parser, ScoreGenerationsConfig)

    def run(self, args: argparse.Namespace) -> int:
        from training.configs import ScoreGenerationsConfig
        from training.jobs.score_generations import run_score_generations_job

        set_threads()
        cfg = config_from_args(ScoreGenerationsConfig, args)
        result = run_score_generations_job(
            open_store(),
            cfg.rm,
            cfg.run,
            batch_size=cfg.batch_size,
            max_length=cfg.max_length,
            head_seed=cfg.head_seed,
            tie_margin=cfg.tie_margin,
            keep_states=cfg.keep_states,
        )
        state = "already complete, reused" if result.reused else f"scored {result.done_now} answers"
        out(f"generation scoring run {result.run.id} ({state})")
        print_comparison(result.run.summary or {})
        return 0
