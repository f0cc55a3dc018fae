"""The ``preflens`` entry point: one parser built from the command registry, one error
policy (a ``PrefLensError`` is one line on stderr and exit 2, never a traceback).

Heavy libraries (torch, transformers) are imported inside the commands, so ``preflens
--help`` is instant.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings
from collections.abc import Sequence

from preflens.cli.commands import COMMANDS
from preflens.cli.output import error, warning
from preflens.cli.rm_layout import (
    LAYOUT_COMMANDS,
    add_rm_layout_argument,
    check_reward_model,
    options_as_settings,
)
from preflens.errors import PrefLensError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="preflens",
        description="Inspect preference data, reward models and DPO policies.",
        epilog="Settings come from PREFLENS_* environment variables (docs/reference/settings.md).",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show debug logging")
    parser.add_argument(
        "--dtype",
        choices=("auto", "float32", "bfloat16", "float16"),
        help="weights' dtype of the models a command loads (sets PREFLENS_DTYPE; "
        "default auto: bfloat16 on a CUDA GPU that has it, else float32)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command().register(sub)
    for name in LAYOUT_COMMANDS:
        add_rm_layout_argument(sub.choices[name])
    return parser


def parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """Parsed arguments; an option the command does not know is reported with that
    command's usage (argparse would show the top-level usage), exit code 2."""
    args, extra = parser.parse_known_args(argv)
    if extra:
        commands = next(
            a for a in parser._actions if isinstance(a, argparse._SubParsersAction)
        ).choices
        commands[args.command].error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns its exit status (2: a ``PrefLensError``, one line; 141
    when the reader of our output went away, as in ``preflens runs | head -1``)."""
    try:
        code = _main(argv)
        sys.stdout.flush()  # a closed pipe shows up here at the latest
        return code
    except BrokenPipeError:
        # The reader stopped reading: nothing is wrong and nothing more can be said.
        # Point stdout at /dev/null so the interpreter's final flush stays quiet too.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 128 + 13  # as a shell reports a process ended by SIGPIPE


def _main(argv: Sequence[str] | None) -> int:
    try:
        # Building the parser reads settings (option defaults come from PREFLENS_*), so a
        # bad variable is reported here, as one line, before any command runs.
        args = parse(build_parser(), argv)
    except PrefLensError as exc:
        error(f"error: {exc}")
        return 2
    # Deprecation notices from the libraries say nothing a PrefLens user can act on.
    warnings.filterwarnings("ignore", category=FutureWarning)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("httpx", "urllib3", "filelock", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        with options_as_settings(args):
            for line in check_reward_model(args):
                warning(line)
            return args.func(args)
    except PrefLensError as exc:
        error(f"error: {exc}")
        return 2
    except KeyboardInterrupt:
        error("interrupted; rerun the same command to resume")
        return 130


if __name__ == "__main__":
    sys.exit(main())
