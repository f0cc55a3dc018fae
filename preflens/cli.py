"""The ``preflens`` command line: one entry point, one subcommand per job.

Heavy libraries (torch, transformers) are imported inside the handlers, so
``preflens --help`` is instant.
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from collections.abc import Sequence

from preflens.config import EMBEDDED_MODEL_ALIAS, get_settings
from preflens.errors import PrefLensError

log = logging.getLogger("preflens")


def out(text: str = "") -> None:
    """Command output (results for the user; diagnostics go through logging)."""
    print(text, flush=True)


def open_store():
    """Migrate the configured database to the newest schema and return a sessionmaker."""
    from db.migrate import upgrade
    from db.session import get_sessionmaker

    url = get_settings().resolved_database_url
    upgrade(url)
    return get_sessionmaker(url)


def set_threads() -> None:
    threads = get_settings().num_threads
    if threads:
        import torch

        torch.set_num_threads(threads)


# ------------------------------------------------------------------ handlers
def cmd_model_pull(args: argparse.Namespace) -> int:
    from preflens.model_cache import embedded_model_path, is_converted

    path = embedded_model_path()
    if is_converted(path) and not args.force:
        out(f"{EMBEDDED_MODEL_ALIAS} is already at {path}; nothing to do")
        return 0
    from training.models import pull_embedded_model

    path, created = pull_embedded_model(force=args.force)
    if created:
        out(f"converted {EMBEDDED_MODEL_ALIAS} into {path}")
    else:
        out(f"{EMBEDDED_MODEL_ALIAS} is already at {path}; nothing to do")
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from db.migrate import current_revision

    open_store()
    url = get_settings().resolved_database_url
    out(f"database at revision {current_revision(url)}: {url}")
    return 0


def parse_mapping(items: Sequence[str] | None) -> dict[str, str] | None:
    if not items:
        return None
    mapping = {}
    for item in items:
        key, sep, column = item.partition("=")
        if not sep or not key or not column:
            raise PrefLensError(f"--map {item!r}: expected FIELD=COLUMN, e.g. prompt=question")
        mapping[key.strip()] = column.strip()
    return mapping


def print_ingest_report(report) -> None:  # noqa: ANN001 - training.ingest.IngestReport
    out(f"dataset {report.dataset!r} (layout: {report.format})")
    out(f"  rows read:     {report.rows}")
    out(
        f"  pairs added:   {report.added}"
        + (
            f"  ({', '.join(f'{k}: {v}' for k, v in sorted(report.splits.items()))})"
            if report.splits
            else ""
        )
    )
    out(f"  already there: {report.duplicates}")
    out(f"  rejected rows: {report.rejected}")
    for reason, count in report.reasons.most_common():
        out(f"    {count:>6}  {reason}")
    for _, example in report.examples[:10]:
        out(f"    e.g. {example}")


def cmd_ingest(args: argparse.Namespace) -> int:
    from training.ingest import ingest

    report = ingest(
        open_store(),
        args.path,
        fmt=args.format,
        name=args.name,
        split=args.split,
        test_fraction=args.test_fraction,
        prefer=args.prefer,
        mapping=parse_mapping(args.map),
    )
    print_ingest_report(report)
    if report.readable == 0:
        out("error: no row could be read")
        return 1
    return 0


def print_score_summary(summary: dict, label: str = "") -> None:
    if not summary or not summary.get("pairs"):
        out(f"{label}no pairs scored")
        return
    out(
        f"{label}pairs {summary['pairs']}  accuracy {summary['accuracy']:.3f}  "
        f"reward mean {summary['reward_mean']:.3f}  std {summary['reward_std']:.3f}  "
        f"truncated responses {summary['truncated_responses']}"
    )


def cmd_score(args: argparse.Namespace) -> int:
    from training.score_run import run_score_job

    set_threads()
    split = None if args.split == "all" else args.split
    result = run_score_job(
        open_store(),
        args.model,
        args.dataset,
        split,
        batch_size=args.batch_size,
        max_length=args.max_length,
        head_seed=args.head_seed,
    )
    run = result.run
    state = "already complete, reused" if result.reused else f"scored {result.done_now} pairs"
    out(f"score run {run.id} ({state})")
    print_score_summary(run.summary or {}, "  ")
    return 0


def _fmt_summary(kind: str, summary: dict | None) -> str:
    """One line of headline numbers for a run, by kind."""
    s = summary or {}
    if not s:
        return ""
    if kind == "score" and "accuracy" in s:
        return (
            f"acc {s['accuracy']:.3f} mean {s['reward_mean']:.2f} "
            f"std {s['reward_std']:.2f} n {s['pairs']}"
        )
    if kind in ("train_rm", "train_dpo"):
        parts = [f"{s.get('steps', '?')} steps", f"loss {s.get('train_loss', float('nan')):.3f}"]
        if "eval_accuracy" in s:
            parts.append(f"eval acc {s['eval_accuracy']:.3f}")
        margin = (s.get("last") or {}).get("rewards/margins")
        if margin is not None:
            parts.append(f"margin {margin:.3f}")
        return ", ".join(parts)
    if kind == "generate":
        return ", ".join(
            f"{name} {p['n']} ({p['cut_at_limit']} cut)"
            for name, p in (s.get("policies") or {}).items()
        )
    if kind == "score_generations":
        return ", ".join(
            f"{c['a']} vs {c['b']} {c['mean_diff']:+.3f} win {c['win_rate']:.1%}"
            for c in s.get("comparisons") or []
            if c.get("n")
        )
    return ""


def cmd_runs(args: argparse.Namespace) -> int:
    from db import queries

    with open_store()() as session:
        runs = queries.list_runs(session, args.kind)
        if not runs:
            out("no runs yet")
            return 0
        out(
            f"{'id':>4}  {'kind':<17} {'status':<8} {'progress':>8}  {'dataset/split':<22} "
            f"{'model':<28} summary"
        )
        for r in runs:
            where = f"{r.dataset.name if r.dataset else '-'}/{r.split or 'all'}"
            model = (r.checkpoint.name if r.checkpoint else r.config.get("model", "-"))[-28:]
            out(
                f"{r.id:>4}  {r.kind:<17} {r.status:<8} {r.progress:>7.0%}  {where:<22} "
                f"{model:<28} {_fmt_summary(r.kind, r.summary)}"
                + (f"  error: {r.error}" if r.error else "")
            )
    return 0


def cmd_datasets(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from db import queries
    from db.models import Dataset

    with open_store()() as session:
        datasets = session.scalars(select(Dataset).order_by(Dataset.id)).all()
        if not datasets:
            out("no datasets yet; `preflens ingest PATH` adds one")
        for ds in datasets:
            c = queries.dataset_counts(session, ds.id)
            splits = ", ".join(f"{k}: {v}" for k, v in sorted(c["splits"].items()))
            out(
                f"{ds.id:>3}  {ds.name:<24} {ds.format:<15} pairs {c['pairs']} ({splits})  "
                f"rejected {c['rejected']}"
            )
            for reason, n in sorted(c["reasons"].items(), key=lambda kv: -kv[1]):
                out(f"       {n:>6}  {reason}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from training.demo import run_demo

    set_threads()
    made = run_demo(open_store(), out)
    if args.no_serve:
        return 0
    from backend.cli import serve

    s = get_settings()
    out(
        f"serving the trained RM and both policies at http://{s.api_host}:{s.api_port} "
        f"(API docs at /docs); Ctrl-C stops"
    )
    from dashboard.cli import start_dashboard

    dash = start_dashboard(s.dashboard_host, s.dashboard_port, f"http://{s.api_host}:{s.api_port}")
    out(f"dashboard at http://{s.dashboard_host}:{s.dashboard_port}")
    try:
        return serve(
            rm=made["rm_path"], policies={"base": EMBEDDED_MODEL_ALIAS, "dpo": made["dpo_path"]}
        )
    finally:
        dash.terminate()
        dash.wait(timeout=10)


# ------------------------------------------------------------------ parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="preflens",
        description="Inspect preference data, reward models and DPO policies.",
        epilog="Settings come from PREFLENS_* environment variables (see README).",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("model", help="manage the embedded model")
    msub = p.add_subparsers(dest="model_command", required=True, metavar="ACTION")
    pull = msub.add_parser("pull", help=f"fetch and convert {EMBEDDED_MODEL_ALIAS} (idempotent)")
    pull.add_argument("--force", action="store_true", help="convert again even if present")
    pull.set_defaults(func=cmd_model_pull)

    p = sub.add_parser("db", help="database maintenance")
    dsub = p.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    dsub.add_parser("upgrade", help="apply migrations").set_defaults(func=cmd_db_upgrade)

    p = sub.add_parser("ingest", help="read a preference dataset into the store")
    p.add_argument("path", help="JSON/JSONL/CSV/Parquet file, saved `datasets` folder or hub name")
    p.add_argument(
        "--format",
        choices=["pku-saferlhf", "align-anything", "hh-rlhf", "trl", "mapping"],
        help="layout (default: detected)",
    )
    p.add_argument("--name", help="dataset name (default: the file name without extension)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--split", help="put every row in this split (unless the row names one)")
    group.add_argument(
        "--test-fraction",
        type=float,
        help="send this share of pairs to 'test' (stable, by content hash)",
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
    p.set_defaults(func=cmd_ingest)

    s = get_settings()
    p = sub.add_parser("score", help="score both responses of every pair with a reward model")
    p.add_argument(
        "--model",
        default=EMBEDDED_MODEL_ALIAS,
        help="checkpoint folder, .gguf file, hub id or alias (default: %(default)s)",
    )
    p.add_argument("--dataset", required=True, help="dataset name or id")
    p.add_argument("--split", default="all", help="split to score, or 'all' (default: all)")
    p.add_argument(
        "--batch-size",
        type=int,
        default=s.score_batch_size,
        help="pairs per forward pass (default: %(default)s)",
    )
    p.add_argument(
        "--max-length",
        type=int,
        default=s.score_max_length,
        help="tokens per conversation; longer ones keep their end (default: %(default)s)",
    )
    p.add_argument(
        "--head-seed",
        type=int,
        default=0,
        help="seed for the score head of a checkpoint that has none (default: 0)",
    )
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("runs", help="list runs with status and summary")
    p.add_argument("--kind", help="only runs of this kind (e.g. score)")
    p.set_defaults(func=cmd_runs)

    p = sub.add_parser("datasets", help="list datasets with pair and rejected-row counts")
    p.set_defaults(func=cmd_datasets)

    p = sub.add_parser("demo", help="run the demo pipeline on the embedded model and demo data")
    p.add_argument(
        "--no-serve", action="store_true", help="stop after the summaries (for scripted use)"
    )
    p.set_defaults(func=cmd_demo)
    from preflens.cli_jobs import add_job_parsers

    add_job_parsers(sub)
    from dashboard.cli import add_dashboard_parser

    add_dashboard_parser(sub)
    from backend.cli import add_serve_parser

    add_serve_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Deprecation notices from the libraries say nothing a PrefLens user can act on.
    warnings.filterwarnings("ignore", category=FutureWarning)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("httpx", "urllib3", "filelock", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return args.func(args)
    except PrefLensError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; rerun the same command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
