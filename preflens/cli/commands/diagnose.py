"""``preflens diagnose``, ``preflens export`` and ``preflens report``: a run's diagnostics
printed, its rows written to a file, and a self-contained HTML report."""

from __future__ import annotations

import argparse
from pathlib import Path

from preflens.cli.commands.base import Command, open_store
from preflens.errors import QueryError

BOOTSTRAP_HELP = "bootstrap resamples (>= 1000)"


def _resamples(text: str) -> int:
    value = int(text)
    if not 1000 <= value <= 100_000:
        raise argparse.ArgumentTypeError(f"{value}: use 1000 to 100000 resamples")
    return value


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", type=int, metavar="RUN", help="a score or score_generations run id")
    parser.add_argument(
        "--against", type=int, metavar="RUN", help="a score run on the same pairs to compare"
    )
    parser.add_argument("--bootstrap", type=_resamples, default=2000, help=BOOTSTRAP_HELP)
    parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap")


class DiagnoseCommand(Command):
    name = "diagnose"
    help = "a run's numbers with 95%% intervals, length control and calibration"
    description = (
        "Accuracy, AUC and mean gap with 95% intervals, accuracy by category, length "
        "control and calibration of a score run (or, for a score_generations run, mean "
        "differences, win rates, sign test and length-controlled win rate); with --against, "
        "the paired comparison of two score runs on the same pairs."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        _common(parser)

    def run(self, args: argparse.Namespace) -> int:
        from db.read.diagnostics import paired, run_diagnostics
        from preflens.cli.diagnose_output import out, print_diagnostics, print_paired

        with open_store()() as session:
            print_diagnostics(run_diagnostics(session, args.run, args.bootstrap, args.seed))
            if args.against is not None:
                out()
                print_paired(paired(session, args.against, args.run, args.bootstrap, args.seed))
        return 0


class ExportCommand(Command):
    name = "export"
    help = "write a run's rows (prompt, texts, scores, lengths) to a file"
    description = (
        "csv, jsonl and parquet: one row per pair of a score run, or per prompt of a "
        "comparison of a score_generations run. llm-comparator: the JSON file the LLM "
        "Comparator app reads, with score = 1.5 * tanh(RM score A - RM score B)."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        from preflens.cli.export import FORMATS

        parser.add_argument("run", type=int, metavar="RUN", help="a score or score_generations run")
        parser.add_argument("--format", choices=FORMATS, required=True, help="file format")
        parser.add_argument("-o", "--output", type=Path, required=True, help="file to write")
        parser.add_argument("--a", help="score_generations run: policy A (default: first)")
        parser.add_argument("--b", help="score_generations run: policy B")

    def run(self, args: argparse.Namespace) -> int:
        from db.read.export import export_columns, export_rows
        from preflens.cli import export
        from preflens.cli.diagnose_output import print_wrote

        if args.output.parent and not args.output.parent.exists():
            raise QueryError(f"folder {args.output.parent} does not exist")
        with open_store()() as session:
            columns = export_columns(session, args.run)
            kind = "score" if "gap" in columns else "score_generations"
            rows = export_rows(session, args.run, args.a, args.b)
            if args.format == "csv":
                n = export.write_csv(rows, columns, args.output)
            elif args.format == "jsonl":
                n = export.write_jsonl(rows, args.output)
            elif args.format == "parquet":
                n = export.write_parquet(rows, columns, args.output)
            else:
                n = export.write_comparator(rows, args.run, kind, args.output)
        print_wrote(str(args.output), n, "pairs" if kind == "score" else "prompts")
        return 0


class ReportCommand(Command):
    name = "report"
    help = "write one self-contained HTML report of a run"
    description = (
        "Headline numbers with 95% intervals, length control, calibration, the paired "
        "comparison with --against, and the most confidently wrong pairs, in one HTML file "
        "with inline SVG charts (opens offline, runs no script)."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        _common(parser)
        parser.add_argument("-o", "--output", type=Path, required=True, help="HTML file")
        parser.add_argument("--top", type=int, default=10, help="confidently wrong pairs shown")

    def run(self, args: argparse.Namespace) -> int:
        from db.read.diagnostics import (
            confidently_wrong,
            paired,
            paired_scatter,
            run_diagnostics,
        )
        from preflens.cli.diagnose_output import print_report_written
        from preflens.cli.report import render_report

        with open_store()() as session:
            d = run_diagnostics(session, args.run, args.bootstrap, args.seed)
            p = points = None
            if args.against is not None:
                p = paired(session, args.against, args.run, args.bootstrap, args.seed)
                points = paired_scatter(session, args.against, args.run)
            wrong = confidently_wrong(session, args.run, args.top) if d["kind"] == "score" else []
        args.output.write_text(render_report(d, p, points, wrong), encoding="utf-8")
        print_report_written(str(args.output), args.run, args.against)
        return 0
