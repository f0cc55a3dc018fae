"""The command interface: each command registers its parser and runs from parsed
arguments. Commands import their heavy dependencies inside ``run`` (so ``preflens
--help`` stays instant) and never import the entry module."""

from __future__ import annotations

import argparse
from typing import Any


class Command:
    """A subcommand: ``name`` and ``help`` for the listing, ``add_arguments`` for its
    options, ``run`` to do it (returns the exit code)."""

    name: str = ""
    help: str = ""
    description: str | None = None

    def register(self, subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
        parser = subparsers.add_parser(
            self.name, help=self.help, description=self.description or self.help
        )
        self.add_arguments(parser)
        parser.set_defaults(func=self.run)
        return parser

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Options of the command (none by default)."""

    def run(self, args: argparse.Namespace) -> int:
        raise NotImplementedError


def open_store() -> Any:
    """Migrate the configured database to the newest schema and return a sessionmaker."""
    from db.migrate import open_store as open_configured_store

    return open_configured_store()


def set_threads() -> None:
    """Apply ``PREFLENS_NUM_THREADS`` to torch (only commands that run models call it)."""
    from training.jobs import apply_num_threads

    apply_num_threads()
