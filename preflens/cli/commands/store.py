"""``preflens model pull``, ``preflens db upgrade``, ``preflens runs``, ``preflens datasets``:
the embedded model and what the store holds."""

from __future__ import annotations

import argparse

from preflens.cli.commands.base import Command, open_store
from preflens.cli.output import out, print_datasets, print_runs
from preflens.config import EMBEDDED_MODEL_ALIAS, get_settings


class ModelCommand(Command):
    name = "model"
    help = "manage the embedded model"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="model_command", required=True, metavar="ACTION")
        pull = sub.add_parser("pull", help=f"fetch and convert {EMBEDDED_MODEL_ALIAS} (idempotent)")
        pull.add_argument("--force", action="store_true", help="convert again even if present")

    def run(self, args: argparse.Namespace) -> int:
        from preflens.model_cache import embedded_model_path, is_converted

        path = embedded_model_path()
        if is_converted(path) and not args.force:
            out(f"{EMBEDDED_MODEL_ALIAS} is already at {path}; nothing to do")
            return 0
        from training.fetch import pull_embedded_model

        path, created = pull_embedded_model(force=args.force)
        if created:
            out(f"converted {EMBEDDED_MODEL_ALIAS} into {path}")
        else:
            out(f"{EMBEDDED_MODEL_ALIAS} is already at {path}; nothing to do")
        return 0


class DbCommand(Command):
    name = "db"
    help = "database maintenance"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="db_command", required=True, metavar="ACTION")
        sub.add_parser("upgrade", help="apply migrations")

    def run(self, args: argparse.Namespace) -> int:
        from db.migrate import current_revision
        from db.session import shown_url

        open_store()
        url = get_settings().resolved_database_url
        out(f"database at revision {current_revision(url)}: {shown_url(url)}")
        return 0


class RunsCommand(Command):
    name = "runs"
    help = "list runs with status and summary"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--kind", help="only runs of this kind (e.g. score)")

    def run(self, args: argparse.Namespace) -> int:
        from sqlalchemy import select

        from db.ownership import shown_status
        from db.schema import Run

        with open_store()() as session:
            stmt = select(Run).order_by(Run.id)
            if args.kind:
                stmt = stmt.where(Run.kind == args.kind)
            rows = list(session.scalars(stmt))
            for r in rows:
                r.shown_status = shown_status(r)  # "interrupted" when its owner is gone
            print_runs(rows)
        return 0


class DatasetsCommand(Command):
    name = "datasets"
    help = "list datasets with pair and rejected-row counts"

    def run(self, args: argparse.Namespace) -> int:
        from sqlalchemy import select

        from db import read
        from db.schema import Dataset

        with open_store()() as session:
            datasets = session.scalars(select(Dataset).order_by(Dataset.id)).all()
            print_datasets([(ds, read.dataset_counts(session, ds.id)) for ds in datasets])
        return 0
