"""``preflens import-generations``, ``preflens import-scores`` and ``preflens
export-dataset``: bring results made elsewhere in, and a dataset out in TRL's layout."""

from __future__ import annotations

import argparse

from preflens.cli.commands.base import Command, open_store
from preflens.cli.options import split_filter as _split
from preflens.cli.output import print_comparison, print_generation_summary, print_lines

GENERATION_FORMATS = ["alpacaeval", "align-anything", "jsonl"]
SCORE_FORMATS = ["rewardbench", "jsonl", "align-anything"]


class ImportGenerationsCommand(Command):
    name = "import-generations"
    help = "import answers made elsewhere (AlpacaEval, align-anything, JSONL) as a generation run"

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        p.add_argument("path", help="the answers file (.json or .jsonl)")
        p.add_argument("--dataset", required=True, help="the dataset whose prompts were answered")
        p.add_argument("--split", help="match prompts of this split only (default: all splits)")
        p.add_argument("--policy", help="policy name for every row (default: the file's own)")
        p.add_argument("--format", choices=GENERATION_FORMATS, help="layout (default: detected)")
        p.add_argument(
            "--add-prompts",
            action="store_true",
            help="--dataset names a prompt set (made when new): prompts it lacks are added to "
            "it instead of refused; a preference dataset is never changed",
        )

    def run(self, args: argparse.Namespace) -> int:
        from preflens.cli.import_output import import_lines
        from training.imports.generations import import_generations

        report = import_generations(
            open_store(),
            args.path,
            args.dataset,
            _split(args.split),
            policy=args.policy,
            fmt=args.format,
            add_prompts=args.add_prompts,
        )
        print_lines(import_lines(report))
        if report.run_id is None:
            return 1
        print_generation_summary(report.summary)
        return 0


class ImportScoresCommand(Command):
    name = "import-scores"
    help = "import a reward model's scores made elsewhere (RewardBench, align-anything, JSONL)"

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        p.add_argument("path", help="the scores file (.json or .jsonl)")
        p.add_argument("--dataset", required=True, help="the dataset whose pairs were scored")
        p.add_argument(
            "--model-name", required=True, help="the reward model's name, as runs show it"
        )
        p.add_argument("--split", help="match pairs of this split only (default: all splits)")
        p.add_argument("--format", choices=SCORE_FORMATS, help="layout (default: detected)")
        p.add_argument(
            "--generation-run",
            type=int,
            metavar="ID",
            help="align-anything: the generation run whose answers were scored",
        )

    def run(self, args: argparse.Namespace) -> int:
        from preflens.cli.import_output import import_lines
        from training.imports.scores import import_scores

        report = import_scores(
            open_store(),
            args.path,
            args.dataset,
            args.model_name,
            split=_split(args.split),
            fmt=args.format,
            generation_run=args.generation_run,
        )
        print_lines(import_lines(report))
        if report.run_id is None:
            return 1
        if report.run_kind == "score_generations":
            print_comparison(report.summary)
        return 0


def _labels(text: str | None) -> list[str]:
    """Flag labels of --drop-flagged/--flip-flagged (checked before the store opens)."""
    if text is None:
        return []
    from db.flags import parse_labels

    return parse_labels(text)


class ExportDatasetCommand(Command):
    name = "export-dataset"
    help = "write a dataset's pairs in TRL's prompt/chosen/rejected message layout"

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        from training.imports.export_dataset import FORMATS

        p.add_argument("dataset", help="dataset name or id")
        p.add_argument("--split", help="export this split only (default: every split)")
        p.add_argument(
            "--format",
            choices=FORMATS,
            required=True,
            help="trl: a saved `datasets` folder; jsonl; parquet",
        )
        p.add_argument("-o", "--output", required=True, help="file (folder for trl) to write")
        p.add_argument("--overwrite", action="store_true", help="replace PATH if it exists")
        p.add_argument(
            "--drop-flagged",
            metavar="LABELS",
            help="leave out pairs flagged with these labels (comma-separated, e.g. "
            "mislabelled,ambiguous; see `preflens flags`)",
        )
        p.add_argument(
            "--flip-flagged",
            metavar="LABELS",
            help="write pairs flagged with these labels with chosen and rejected swapped",
        )

    def run(self, args: argparse.Namespace) -> int:
        from preflens.cli.import_output import export_lines
        from training.imports.export_dataset import check_output, export_dataset

        # Checked before the store is opened: a bad path or flag label costs nothing.
        drop, flip = _labels(args.drop_flagged), _labels(args.flip_flagged)
        check_output(args.output, args.format, args.overwrite)
        result = export_dataset(
            open_store(),
            args.dataset,
            args.output,
            args.format,
            _split(args.split),
            overwrite=args.overwrite,
            drop_flagged=drop,
            flip_flagged=flip,
        )
        print_lines(export_lines(result))
        return 0
