"""``preflens bon``: best-of-N sampling scored by a proxy RM and, optionally, a gold RM."""

from __future__ import annotations

import argparse

from preflens.cli.commands.base import Command, open_store, set_threads
from preflens.cli.options import add_config_arguments, config_from_args, parse_policies
from preflens.cli.output import out, print_lines, warning
from preflens.errors import ConfigError


class BonCommand(Command):
    name = "bon"
    help = "best-of-N: sample N answers per prompt, score with a proxy (and gold) RM"
    description = (
        "One policy samples N answers per prompt (seeded, resumable); the proxy RM "
        "(--rm) and the gold RM (--gold-rm) score every answer; the expected proxy and "
        "gold reward and length of the proxy's best-of-k pick are printed for k = 1, 2, "
        "4, ..., N with bootstrap 95% intervals over prompts and the analytic KL."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        from training.configs import BonConfig

        parser.add_argument(
            "--policy",
            required=True,
            metavar="NAME=MODEL",
            help="the policy that samples, e.g. base=smollm2-135m-instruct",
        )
        add_config_arguments(parser, BonConfig)

    def run(self, args: argparse.Namespace) -> int:
        from db.read.bon import bon_summary
        from preflens.cli.over_output import bon_lines
        from training.configs import BonConfig
        from training.jobs.bon import run_bon_job

        set_threads()
        cfg = config_from_args(BonConfig, args)
        policies = parse_policies([args.policy])
        if "#" in next(iter(policies)):
            raise ConfigError("--policy: the name may not contain '#' (it numbers the samples)")
        name, model = next(iter(policies.items()))
        _warn_untrained(cfg.rm, cfg.gold_rm)
        store = open_store()
        result = run_bon_job(store, name, model, cfg)
        state = "already complete, reused" if result.reused else f"{result.done_now} new answers"
        out(f"bon run {result.run.id} ({state})")
        with store() as session:
            print_lines(bon_lines(bon_summary(session, result.run.id)))
        return 0


def _warn_untrained(*specs: str | None) -> None:
    """The untrained-head line for a proxy or gold RM without a head (as ``score``)."""
    from preflens.cli.rm_layout import untrained_head_warning
    from training.loading import plan_reward_model

    for spec in specs:
        if spec is not None and plan_reward_model(spec).head_initialized:
            warning(untrained_head_warning(spec, 0))
