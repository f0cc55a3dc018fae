"""``preflens suspects`` (likely mislabelled pairs, ranked) and ``preflens flags`` (list,
set or clear people's flags on pairs)."""

from __future__ import annotations

import argparse
import json

from preflens.cli.commands.base import Command, open_store
from preflens.cli.options import int_at_least


def _run_ids(text: str) -> list[int]:
    try:
        ids = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give run ids separated by commas") from None
    if not ids:
        raise argparse.ArgumentTypeError("give at least one run id")
    return ids


_positive = int_at_least(1)


class SuspectsCommand(Command):
    name = "suspects"
    help = "pairs ranked by how likely their label is wrong, from every run on them"
    description = (
        "Rank a dataset's pairs by suspicion: the mean, over every signal (score runs with "
        "their fitted temperature, score_dpo runs' implicit-reward margins), of the "
        "probability that the labelled-rejected response is the better one."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("dataset", help="dataset name or id")
        parser.add_argument(
            "--runs",
            type=_run_ids,
            metavar="IDS",
            help="signal runs, comma-separated (default: every finished score and score_dpo "
            "run on the dataset)",
        )
        parser.add_argument("--split", help="rank the pairs of this split only")
        parser.add_argument("--limit", type=_positive, default=20, help="pairs shown (<= 500)")
        parser.add_argument(
            "--min-signals", type=_positive, default=1, help="leave out pairs with fewer signals"
        )
        parser.add_argument("--json", action="store_true", help="print JSON instead of a table")

    def run(self, args: argparse.Namespace) -> int:
        from db.read.suspects import suspects
        from preflens.cli.fix_output import suspects_lines
        from preflens.cli.output import out, print_lines

        with open_store()() as session:
            d = suspects(session, args.dataset, args.runs, args.split, args.limit, args.min_signals)
        if args.json:
            out(json.dumps(d, indent=2))
        else:
            print_lines(suspects_lines(d))
        return 0


class FlagsCommand(Command):
    name = "flags"
    help = "list, set or clear flags on pairs (mislabelled, ambiguous, bad-prompt, ok)"
    description = (
        "Without --set or --clear, list the flags (newest first). A flag set here records "
        "'cli' as who set it; the dashboard and the API record the API key's name."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--dataset", help="only flags on this dataset's pairs")
        parser.add_argument("--label", help="only these labels (comma-separated)")
        parser.add_argument(
            "--set",
            nargs=2,
            metavar=("PAIR", "LABEL"),
            help="flag pair PAIR (an id) as LABEL (replaces its flag)",
        )
        parser.add_argument("--note", default="", help="note stored with --set")
        parser.add_argument("--clear", type=_positive, metavar="PAIR", help="remove a flag")
        parser.add_argument("--limit", type=_positive, default=1000, help="flags listed")
        parser.add_argument("--json", action="store_true", help="print JSON instead of a table")

    def run(self, args: argparse.Namespace) -> int:
        from db.flags import clear_flag, list_flags, parse_labels, set_flag
        from db.session import writing
        from preflens.cli.fix_output import flags_lines
        from preflens.cli.output import out, print_lines
        from preflens.errors import QueryError

        if args.set and args.clear is not None:
            raise QueryError("give --set or --clear, not both")
        labels = parse_labels(args.label) if args.label else None
        if args.set:
            pair, label = args.set
            if not pair.isdigit():
                raise QueryError(f"--set {pair!r}: PAIR is a pair id (a whole number)")
            parse_labels(label)
        make_session = open_store()
        if args.set:
            with writing(make_session) as session:
                flag = set_flag(session, int(args.set[0]), args.set[1], args.note, "cli")
            out(f"pair {flag['pair_id']} flagged {flag['label']} (set by cli)")
            return 0
        if args.clear is not None:
            with writing(make_session) as session:
                gone = clear_flag(session, args.clear)
            out(f"pair {args.clear}: flag removed" if gone else f"pair {args.clear} had no flag")
            return 0
        with make_session() as session:
            flags = list_flags(session, args.dataset, labels, args.limit)
        if args.json:
            out(json.dumps(flags, indent=2))
        else:
            print_lines(flags_lines(flags))
        return 0


class CompareRetrainedCommand(Command):
    name = "compare-retrained"
    help = "score a retrained RM on a score run's pairs and compare the two, per slice too"
    description = (
        "The last step of inspect, flag, export, retrain: score MODEL (e.g. the RM retrained "
        "on a cleaned dataset) on exactly the pairs score run RUN scored (its dataset, split, "
        "limit and max length), then print the paired comparison (RUN is a, the new run is "
        "b) and the paired slices with Holm/Benjamini-Hochberg corrections."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--model", required=True, help="the retrained reward model")
        parser.add_argument(
            "--against", type=int, required=True, metavar="RUN", help="the original score run"
        )
        parser.add_argument("--batch-size", type=_positive, default=8, help="pairs per pass")

    def run(self, args: argparse.Namespace) -> int:
        from db.lookup import run_record
        from db.read.diagnostics import paired
        from db.read.slices import run_slices
        from preflens.cli.commands.base import set_threads
        from preflens.cli.diagnose_output import print_paired
        from preflens.cli.fix_output import slices_lines
        from preflens.cli.output import out, print_lines
        from preflens.errors import QueryError
        from training.jobs.score import run_score_job

        make_session = open_store()
        with make_session() as session:
            old = run_record(session, args.against)
            if old.kind != "score" or old.dataset_id is None:
                raise QueryError(f"run {old.id} is not a score run on a dataset")
            dataset, split, cfg = old.dataset_id, old.split, dict(old.config or {})
        set_threads()
        new = run_score_job(
            make_session,
            args.model,
            dataset,
            split,
            batch_size=args.batch_size,
            max_length=int(cfg.get("max_length") or 512),
            limit=cfg.get("limit"),
        ).run
        out(f"scored {args.model} on run {args.against}'s pairs: run {new.id}")
        with make_session() as session:
            print_paired(paired(session, args.against, new.id))
            out()
            print_lines(slices_lines(run_slices(session, new.id, args.against)))
        return 0
