"""``preflens diagnose``, ``preflens export`` and ``preflens report``: a run's diagnostics
printed, its rows written to a file, and a self-contained HTML report."""

from __future__ import annotations

import argparse

from preflens.cli.commands.base import Command, open_store
from preflens.cli.outfiles import atomic_output, check_output, output_path
from preflens.errors import ConfigError, OutputError, QueryError

BOOTSTRAP_HELP = "bootstrap resamples (>= 1000)"


def _resamples(text: str) -> int:
    value = int(text)
    if not 1000 <= value <= 100_000:
        raise argparse.ArgumentTypeError(f"{value}: use 1000 to 100000 resamples")
    return value


PARTNER = "partner"


def _against(text: str) -> int | str:
    if text == PARTNER:  # argparse passes the const through the type too
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a run id") from None


def against_run(session, args: argparse.Namespace) -> int | None:  # noqa: ANN001
    """The run named by ``--against`` (its before/after partner when given no value)."""
    if args.against != PARTNER:
        return args.against
    from db.read.compare import partner

    p = partner(session, args.run)
    if p is None:
        raise QueryError(
            f"run {args.run} has no before/after partner; name a run: --against RUN "
            "(GET /v1/runs/{id}/comparable lists the runs on the same pairs)"
        )
    return p["run"]


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"--seed {text!r}: give a whole number >= 0") from None
    if value < 0:
        raise ConfigError(f"--seed {value}: must be at least 0")
    return value


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "run",
        type=int,
        metavar="RUN",
        help="a score or score_generations run id (diagnose also takes a training run with a "
        "checkpoint series, or a bon run)",
    )
    parser.add_argument(
        "--against",
        type=_against,
        nargs="?",
        const=PARTNER,
        metavar="RUN",
        help="a score run on the same pairs to compare (no value: the run's before/after "
        "partner); runs on other pairs are refused",
    )
    parser.add_argument("--bootstrap", type=_resamples, default=2000, help=BOOTSTRAP_HELP)
    parser.add_argument("--seed", type=_seed, default=0, help="seed of the bootstrap (>= 0)")


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
        parser.add_argument(
            "--slices",
            action="store_true",
            help="only the slices (category, split, length-difference bin, map cluster) with "
            "a test per slice and Holm/Benjamini-Hochberg corrected p-values; with "
            "--against, the paired test per slice",
        )

    def run(self, args: argparse.Namespace) -> int:
        from db.read.compare import check_comparable
        from db.read.diagnostics import paired, run_diagnostics
        from preflens.cli.diagnose_output import out, print_diagnostics, print_paired

        with open_store()() as session:
            if args.slices:
                from db.read.slices import run_slices
                from preflens.cli.fix_output import slices_lines
                from preflens.cli.output import print_lines

                against = against_run(session, args) if args.against is not None else None
                print_lines(slices_lines(run_slices(session, args.run, against)))
                return 0
            if args.against is None and _print_over(session, args):
                return 0
            against = against_run(session, args)
            if against is not None:  # refuse runs on other pairs before printing anything
                check_comparable(session, against, args.run)
            print_diagnostics(run_diagnostics(session, args.run, args.bootstrap, args.seed))
            if against is not None:
                out()
                print_paired(paired(session, against, args.run, args.bootstrap, args.seed))
        return 0


def _print_over(session, args: argparse.Namespace) -> bool:  # noqa: ANN001
    """A checkpoint series (a training or series run that has one) or a best-of-N run:
    print its summary and return True; any other run: False."""
    from db.lookup import run_record
    from db.read.series import SERIES_KINDS, series, series_points
    from preflens.cli.output import print_lines
    from preflens.cli.over_output import bon_lines, series_lines

    kind = run_record(session, args.run).kind
    if kind == "bon":
        from db.read.bon import bon_summary

        print_lines(bon_lines(bon_summary(session, args.run, args.bootstrap, args.seed)))
        return True
    if kind in SERIES_KINDS and len(series_points(session, args.run)) > 1:
        print_lines(series_lines(series(session, args.run, b=args.bootstrap, seed=args.seed)))
        return True
    return False


class ExportCommand(Command):
    name = "export"
    help = "write a run's rows (prompt, texts, scores, lengths) to a file"
    description = (
        "csv, jsonl and parquet: one row per pair of a score run, or per prompt of a "
        "comparison of a score_generations run. llm-comparator: the JSON file the LLM "
        "Comparator app reads, with score = 1.5 * tanh(RM score A - RM score B). A training "
        "run with a checkpoint series: one row per step (accuracy with Wilson 95%, AUC, "
        "gap mean, ECE, learned/forgotten); a bon run: one row per k (proxy, gold and "
        "length of the best-of-k pick with bootstrap 95%, KL)."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        from preflens.cli.export import FORMATS

        parser.add_argument(
            "run",
            type=int,
            metavar="RUN",
            help="a score or score_generations run, a training run with a checkpoint "
            "series, or a bon run",
        )
        parser.add_argument("--format", choices=FORMATS, required=True, help="file format")
        parser.add_argument("-o", "--output", type=output_path, required=True, help="file to write")
        parser.add_argument("--a", help="score_generations run: policy A (default: first)")
        parser.add_argument("--b", help="score_generations run: policy B")
        parser.add_argument(
            "--csv-raw",
            action="store_true",
            help="csv: write cells unchanged (by default a text cell starting with =, +, -, "
            "@, tab or CR gets a leading ' so spreadsheets do not run it as a formula)",
        )
        parser.add_argument(
            "--metadata",
            action="store_true",
            help="also write OUTPUT.meta.json: the run, its status, partial or not, rows "
            "written of the run's total, columns (written anyway for a failed or running "
            "run, and to update one already there)",
        )

    def run(self, args: argparse.Namespace) -> int:
        from db.read.common import scored_run
        from db.read.export import export_columns, export_rows
        from db.read.run_state import run_state
        from preflens.cli import export
        from preflens.cli.diagnose_output import out, print_wrote

        check_output(args.output)
        sidecar = export.metadata_path(args.output)
        regular = not args.output.exists() or args.output.is_file()
        if args.metadata:
            if not regular:  # no sidecar beside a device such as /dev/null
                raise OutputError(f"--metadata: {args.output} is not a file to put one beside")
            check_output(sidecar)
        with open_store()() as session:
            if _export_over(session, args, sidecar, regular):
                return 0
            columns = export_columns(session, args.run)
            kind = "score" if "gap" in columns else "score_generations"
            run = scored_run(session, args.run)
            rows = export_rows(session, args.run, args.a, args.b)
            with atomic_output(args.output) as path:
                if args.format == "csv":
                    n = export.write_csv(rows, columns, path, raw=args.csv_raw)
                elif args.format == "jsonl":
                    n = export.write_jsonl(rows, path)
                elif args.format == "parquet":
                    n = export.write_parquet(rows, columns, path)
                else:
                    state = run_state(run, None)
                    n = export.write_comparator(rows, args.run, kind, path, state)
            state = run_state(run, n)
        # A partial file always gets its state beside it; a sidecar there is kept current.
        write_meta = args.metadata or (regular and (state["partial"] or sidecar.exists()))
        if write_meta:
            doc = export.metadata_document(
                args.run, kind, args.format, args.output, columns, state, args.csv_raw
            )
            with atomic_output(sidecar) as path:
                export.write_metadata(doc, path)
        if state["label"]:  # a failed or running run: the file holds what was there so far
            out(state["label"])
        print_wrote(str(args.output), n, "pairs" if kind == "score" else "prompts")
        if write_meta:
            out(f"wrote its state ({state['status']}, partial: {state['partial']}) to {sidecar}")
        return 0


def _export_over(session, args, sidecar, regular) -> bool:  # noqa: ANN001
    """A checkpoint series (one row per step) or a best-of-N run (one row per k): write
    it and return True; any other run: False (exported as pairs or prompts)."""
    from db.lookup import run_record
    from db.read.run_state import run_state
    from preflens.cli import export
    from preflens.cli.diagnose_output import print_wrote
    from preflens.cli.over_export import over_export
    from preflens.uncertainty import DEFAULT_B, DEFAULT_SEED

    found = over_export(session, args.run, DEFAULT_B, DEFAULT_SEED)
    if found is None:
        return False
    kind, columns, rows, conventions = found
    if args.format == "llm-comparator":
        raise ConfigError(
            f"run {args.run} is a {'checkpoint series' if kind == 'series' else 'bon run'}: "
            "export it as csv, jsonl or parquet (llm-comparator takes pairs or prompts)"
        )
    with atomic_output(args.output) as path:
        if args.format == "csv":
            n = export.write_csv(rows, columns, path, raw=args.csv_raw)
        elif args.format == "jsonl":
            n = export.write_jsonl(rows, path)
        else:
            n = export.write_parquet(rows, columns, path)
    state = run_state(run_record(session, args.run), n)
    what = "steps" if kind == "series" else "k values"
    if args.metadata or (regular and sidecar.exists()):
        doc = export.metadata_document(
            args.run, kind, args.format, args.output, columns, state, args.csv_raw
        )
        doc |= {"rows_are": what, "run_total": None, "conventions": conventions}
        with atomic_output(sidecar) as path:
            export.write_metadata(doc, path)
    print_wrote(str(args.output), n, what)
    return True


class ReportCommand(Command):
    name = "report"
    help = "write one self-contained HTML report of a run"
    description = (
        "Headline numbers with 95% intervals, length control, calibration, the paired "
        "comparison with --against, and the most confidently wrong pairs, in one HTML file "
        "with inline SVG charts (opens offline, runs no script). A checkpoint series or a "
        "bon run: its table per step or per k."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        _common(parser)
        parser.add_argument("-o", "--output", type=output_path, required=True, help="HTML file")
        parser.add_argument("--top", type=int, default=10, help="confidently wrong pairs shown")

    def run(self, args: argparse.Namespace) -> int:
        from db.read.catalog import get_run
        from db.read.diagnostics import (
            confidently_wrong,
            paired,
            paired_scatter,
            run_diagnostics,
        )
        from preflens.cli.diagnose_output import out, print_report_written
        from preflens.cli.report import render_report
        from preflens.run_label import run_label

        with open_store()() as session:
            if args.against is None and _report_over(session, args):
                return 0
            against = args.against = against_run(session, args)
            d = run_diagnostics(session, args.run, args.bootstrap, args.seed)
            p = points = None
            if against is not None:
                p = paired(session, against, args.run, args.bootstrap, args.seed)
                points = paired_scatter(session, against, args.run)
            wrong = confidently_wrong(session, args.run, args.top) if d["kind"] == "score" else []
            # The one run label (with each run's max length) heads the report.
            labels = {
                i: run_label(get_run(session, i)) for i in (args.run, against) if i is not None
            }
        html = render_report(d, p, points, wrong, labels)
        with atomic_output(args.output) as path:
            path.write_text(html, encoding="utf-8")
        label = d["state"]["label"]
        if label:  # the report's banner says it too
            out(label)
        print_report_written(str(args.output), args.run, args.against)
        return 0


def _report_over(session, args: argparse.Namespace) -> bool:  # noqa: ANN001
    """A checkpoint series or a best-of-N run: write its report and return True; any
    other run: False."""
    from db.lookup import run_record
    from db.read.run_state import run_state
    from preflens.cli.diagnose_output import out, print_report_written
    from preflens.cli.over_export import over_summary
    from preflens.cli.over_report import render_over_report

    found = over_summary(session, args.run, args.bootstrap, args.seed)
    if found is None:
        return False
    kind, data = found
    label = run_state(run_record(session, args.run), None)["label"]
    html = render_over_report(kind, data, label)
    with atomic_output(args.output) as path:
        path.write_text(html, encoding="utf-8")
    if label:
        out(label)
    print_report_written(str(args.output), args.run, None)
    return True
