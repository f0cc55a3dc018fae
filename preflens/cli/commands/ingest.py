"""``preflens ingest PATH``: read a preference dataset into the store."""

from __future__ import annotations

import argparse

from preflens.cli.commands.base import Command, open_store
from preflens.cli.options import parse_mapping
from preflens.cli.output import out, print_ingest_report

FORMATS = ["pku-saferlhf", "align-anything", "hh-rlhf", "trl", "mapping"]


class IngestCommand(Command):
    name = "ingest"
    help = "read a preference dataset into the store"

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "path", help="JSON/JSONL/CSV/Parquet file, saved `datasets` folder or hub name"
        )
        p.add_argument("--format", choices=FORMATS, help="layout (default: detected)")
        p.add_argument("--name", help="dataset name (default: the file name without extension)")
        p.add_argument(
            "--replace",
            action="store_true",
            help="delete the dataset of that name (its pairs, rejected rows and runs) and "
            "read it again from PATH",
        )
        group = p.add_mutually_exclusive_group()
        group.add_argument("--split", help="put every row in this split (unless the row names one)")
        group.add_argument(
            "--test-fraction",
            type=float,
            help="send this share of prompts to 'test' (stable, by a hash of the prompt)",
        )
        p.add_argument(
            "--prefer",
            choices=["helpful", "safe"],
            default="helpful",
            help="PKU-SafeRLHF: which preference label to use (default: helpful)",
        )
        p.add_argument(
            "--map",
            action="append",
            metavar="FIELD=COLUMN",
            help="column mapping for any layout: prompt=, chosen=, rejected= "
            "(optional category=, split=); repeatable",
        )

    def run(self, args: argparse.Namespace) -> int:
        from training.jobs.ingest import ingest

        report = ingest(
            open_store(),
            args.path,
            fmt=args.format,
            name=args.name,
            split=args.split,
            test_fraction=args.test_fraction,
            prefer=args.prefer,
            mapping=parse_mapping(args.map),
            replace=args.replace,
        )
        print_ingest_report(report)
        if report.readable == 0:
            out("error: no row could be used as a pair (the reasons are above)")
            return 1
        return 0
