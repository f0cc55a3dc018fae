"""``--rm-layout`` for the commands that load a reward model, and the up-front check of
that model: a checkpoint no layout fits is refused before any run is created, and a
plain causal LM (scored with a seeded, untrained head) gets a WARNING line."""

from __future__ import annotations

import argparse
import os
import typing
from collections.abc import Iterator
from contextlib import contextmanager

from preflens.config import Settings, get_settings

# command -> the option that names its reward model (checked, and warned about, up front)
RM_COMMANDS = {"score": "model", "score-generations": "rm", "probe": "model", "serve": "rm"}
# train-rm reads its base through the same loader (a headless base is the usual start)
LAYOUT_COMMANDS = (*RM_COMMANDS, "train-rm")
LAYOUTS: tuple[str, ...] = typing.get_args(Settings.model_fields["rm_layout"].annotation)


def add_rm_layout_argument(parser: argparse.ArgumentParser) -> None:
    """The ``--rm-layout`` option (default: ``PREFLENS_RM_LAYOUT``, else auto)."""
    parser.add_argument(
        "--rm-layout",
        choices=LAYOUTS,
        help="how the reward model's weights are read (head name, normalisation); "
        "default auto: detected from the weight names and config.json (PREFLENS_RM_LAYOUT)",
    )


@contextmanager
def options_as_settings(args: argparse.Namespace) -> Iterator[None]:
    """For one command, make ``--dtype`` and ``--rm-layout`` the settings every loader
    reads (a server started from here too), without each command passing them along.
    The environment is put back afterwards, so a command run in-process leaves none of
    its options behind for the next one."""
    chosen = {
        "PREFLENS_DTYPE": getattr(args, "dtype", None),
        "PREFLENS_RM_LAYOUT": getattr(args, "rm_layout", None),
    }
    chosen = {name: value for name, value in chosen.items() if value}
    saved = {name: os.environ.get(name) for name in chosen}
    os.environ.update(chosen)
    if chosen:
        get_settings.cache_clear()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        if chosen:
            get_settings.cache_clear()


def untrained_head_warning(spec: str, head_seed: int) -> str:
    """The one line shown before a reward model without a head is used."""
    return (
        f"WARNING: {spec} has no reward head: its scores come from an untrained head "
        f"initialised from seed {head_seed} (a 'before training' baseline; accuracy near 0.5). "
        "Runs are marked 'untrained head'."
    )


def check_reward_model(args: argparse.Namespace) -> list[str]:
    """For a command that loads reward models: detect each one's layout now
    (``ModelError`` for a refused checkpoint) and return a warning line for each whose
    head will be untrained. The option may be repeated (a checkpoint series)."""
    option = RM_COMMANDS.get(getattr(args, "command", ""))
    value = getattr(args, option, None) if option else None
    specs = [s for s in (value if isinstance(value, list) else [value]) if s and s != "none"]
    if not specs:
        return []
    from training.loading import load_tokenizer, plan_reward_model
    from training.series import expand_models

    if len(specs) > 1 or option == "model":  # a folder of checkpoint-* is each of them
        specs = [model for _, model in expand_models(specs)]
    lines = []
    for spec in specs:
        plan = plan_reward_model(spec)
        if not plan.head_initialized:
            continue
        # The warning is for a model that will load: a broken tokenizer fails here instead.
        adapter = plan.adapter
        load_tokenizer(adapter.path if adapter and adapter.has_tokenizer else plan.path)
        lines.append(untrained_head_warning(spec, getattr(args, "head_seed", 0) or 0))
    return lines
