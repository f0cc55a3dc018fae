"""``--rm-layout`` for the commands that load a reward model, and the up-front check of
that model: a checkpoint no layout fits is refused before any run is created, and a
plain causal LM (scored with a seeded, untrained head) gets a WARNING line."""

from __future__ import annotations

import argparse
import os
import typing

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


def apply_rm_layout(args: argparse.Namespace) -> None:
    """Make ``--rm-layout`` the setting every loader reads (a server started from here too)."""
    layout = getattr(args, "rm_layout", None)
    if layout:
        os.environ["PREFLENS_RM_LAYOUT"] = layout
        get_settings.cache_clear()


def untrained_head_warning(spec: str, head_seed: int) -> str:
    """The one line shown before a reward model without a head is used."""
    return (
        f"WARNING: {spec} has no reward head: its scores come from an untrained head "
        f"initialised from seed {head_seed} (a 'before training' baseline; accuracy near 0.5). "
        "Runs are marked 'untrained head'."
    )


def check_reward_model(args: argparse.Namespace) -> str | None:
    """For a command that loads a reward model: detect its layout now (``ModelError`` for
    a refused checkpoint) and return the warning line when its head will be untrained."""
    option = RM_COMMANDS.get(getattr(args, "command", ""))
    spec = getattr(args, option, None) if option else None
    if not spec or spec == "none":
        return None
    from training.loading import load_tokenizer, plan_reward_model

    plan = plan_reward_model(spec)
    if not plan.head_initialized:
        return None
    # The warning is for a model that will load: a broken tokenizer fails here instead.
    load_tokenizer(plan.adapter.path if plan.adapter and plan.adapter.has_tokenizer else plan.path)
    return untrained_head_warning(spec, getattr(args, "head_seed", 0) or 0)
