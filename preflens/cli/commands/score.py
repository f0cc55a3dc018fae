"""``preflens score``: score both responses of every pair with a reward model, or with
every checkpoint of a series (``--model`` repeated, or a folder of ``checkpoint-*``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from preflens.cli.commands.base import Command, open_store, set_threads
from preflens.cli.options import add_config_arguments, config_from_args
from preflens.cli.output import out, print_score_summary, score_run_untrained
from preflens.config import EMBEDDED_MODEL_ALIAS


class _Models(argparse.Action):
    """A repeatable ``--model``: a list of the models given, or the default (one name)."""

    def __call__(self, parser, namespace, values, option_string=None):  # noqa: ANN001
        current = getattr(namespace, self.dest)
        current = current if isinstance(current, list) else []
        setattr(namespace, self.dest, [*current, values])


class ScoreCommand(Command):
    name = "score"
    help = "score both responses of every pair with a reward model"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        from training.configs import MODEL_HELP, ScoreConfig

        add_config_arguments(parser, ScoreConfig, skip=("model",))
        parser.add_argument(
            "--model",
            action=_Models,
            default=EMBEDDED_MODEL_ALIAS,
            metavar="MODEL",
            help=f"{MODEL_HELP}; repeat it, or name a folder of checkpoint-* folders, to "
            "score a checkpoint series",
        )
        parser.add_argument(
            "--training-run",
            type=int,
            metavar="ID",
            help="link the series to this train-rm/train-dpo run (default: a new series run)",
        )

    def run(self, args: argparse.Namespace) -> int:
        from training.configs import ScoreConfig
        from training.jobs.score import score_from_config

        set_threads()
        models = args.model if isinstance(args.model, list) else [args.model]
        if len(models) > 1 or _has_checkpoints(models[0]) or args.training_run is not None:
            return _score_series(args, models)
        cfg = config_from_args(ScoreConfig, args, model=models[0])
        result = score_from_config(open_store(), cfg)
        run = result.run
        state = "already complete, reused" if result.reused else f"scored {result.done_now} pairs"
        out(f"score run {run.id} ({state}) on split {run.split or 'all'} of {cfg.dataset}")
        print_score_summary(run.summary or {}, "  ", score_run_untrained(run.config))
        return 0


def _has_checkpoints(model: str) -> bool:
    folder = Path(model)
    return folder.is_dir() and any(p.name.startswith("checkpoint-") for p in folder.iterdir())


def _score_series(args: argparse.Namespace, models: list[str]) -> int:
    from preflens.cli.over_output import print_series_points
    from training.configs import ScoreConfig
    from training.jobs.score import default_split
    from training.series import score_series

    cfg = config_from_args(ScoreConfig, args, model=models[0])
    store = open_store()
    split = default_split(store, cfg.dataset) if cfg.split is None else cfg.split
    split = None if split == "all" else split
    parent, points = score_series(
        store,
        models,
        cfg.dataset,
        split,
        args.training_run,
        batch_size=cfg.batch_size,
        max_length=cfg.max_length,
        head_seed=cfg.head_seed,
        limit=cfg.limit,
    )
    from db.lookup import run_record

    with store() as session:
        rows = [(step, rid, run_record(session, rid).summary or {}) for step, rid in points]
    print_series_points(parent, rows)
    return 0
