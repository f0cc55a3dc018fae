"""Subcommands for training and generation jobs: train-rm, train-dpo, generate,
score-generations. Heavy imports happen inside the handlers."""

from __future__ import annotations

import argparse
from dataclasses import fields

from preflens.config import EMBEDDED_MODEL_ALIAS
from preflens.errors import PrefLensError


def _out(text: str = "") -> None:
    from preflens.cli import out

    out(text)


def _config_from_args(cls, args: argparse.Namespace):  # noqa: ANN001, ANN202
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in vars(args).items() if k in names and v is not None})


def print_training_summary(run) -> None:  # noqa: ANN001 - db.models.Run
    s = run.summary or {}
    _out(
        f"{run.kind} run {run.id}: {run.status}, {s.get('steps', '?')} steps on "
        f"{s.get('train_pairs', '?')} pairs, train loss {s.get('train_loss', float('nan')):.4f}"
    )
    if "eval_rewards/margins" in s:
        _out(
            f"  eval: loss {s['eval_loss']:.4f}  margin {s['eval_rewards/margins']:.4f}  "
            f"accuracy {s.get('eval_rewards/accuracies', float('nan')):.3f}"
        )
    if "eval_accuracy" in s:
        _out(f"  eval accuracy {s['eval_accuracy']:.3f}  eval loss {s['eval_loss']:.4f}")
    last = s.get("last") or {}
    if "rewards/margins" in last:
        _out(
            "  last step: "
            + "  ".join(
                f"{k} {last[k]:.4f}"
                for k in (
                    "loss",
                    "rewards/chosen",
                    "rewards/rejected",
                    "rewards/margins",
                    "rewards/accuracies",
                )
                if k in last
            )
        )
    if s.get("truncated_pairs"):
        _out(
            f"  {s['truncated_pairs']} training pairs were longer than --max-length (their ends "
            "were cut"
            + (
                f"; {s['dropped_pairs']} with over-long prompts were left out)"
                if s.get("dropped_pairs")
                else ")"
            )
        )
    if s.get("output"):
        _out(f"  checkpoint: {s['output']}")


def cmd_train_rm(args: argparse.Namespace) -> int:
    from preflens.cli import open_store, print_score_summary, set_threads
    from training.train_rm import RMTrainConfig, train_rm

    set_threads()
    result = train_rm(open_store(), _config_from_args(RMTrainConfig, args))
    if result.reused:
        _out("training already finished; reused the checkpoint")
    print_training_summary(result.run)
    scores = (result.run.summary or {}).get("scores", {})
    for label in ("before", "after"):
        if label in scores:
            print_score_summary(
                scores[label], f"  {label} training (score run {scores[label]['run']}): "
            )
    return 0


def cmd_train_dpo(args: argparse.Namespace) -> int:
    from preflens.cli import open_store, set_threads
    from training.train_dpo import DPOTrainConfig, train_dpo

    set_threads()
    result = train_dpo(open_store(), _config_from_args(DPOTrainConfig, args))
    if result.reused:
        _out("training already finished; reused the checkpoint")
    print_training_summary(result.run)
    return 0


def parse_policies(items: list[str] | None) -> dict[str, str]:
    """``["base=smollm2-135m-instruct", "dpo=./checkpoints/dpo"]`` -> {name: model}."""
    policies: dict[str, str] = {}
    for item in items or []:
        name, sep, model = (part.strip() for part in item.partition("="))
        if not sep or not name or not model:
            raise PrefLensError(
                f"--policy {item!r}: expected NAME=MODEL, e.g. base={EMBEDDED_MODEL_ALIAS}"
            )
        if name in policies:
            raise PrefLensError(f"--policy {name!r} is given twice")
        policies[name] = model
    return policies


def cmd_generate(args: argparse.Namespace) -> int:
    from preflens.cli import open_store, set_threads
    from training.generate_run import run_generate_job

    set_threads()
    split = None if args.split == "all" else args.split
    result = run_generate_job(
        open_store(),
        parse_policies(args.policy),
        args.dataset,
        split,
        max_new_tokens=args.max_new_tokens,
        temperature=args.temperature,
        top_p=args.top_p,
        seed=args.seed,
        batch_size=args.batch_size,
        limit=args.limit,
    )
    run = result.run
    state = "already complete, reused" if result.reused else f"{result.done_now} new answers"
    _out(f"generation run {run.id} ({state})")
    print_generation_summary(run.summary or {})
    return 0


def print_generation_summary(summary: dict) -> None:
    for name, s in (summary.get("policies") or {}).items():
        _out(
            f"  {name:<12} answers {s['n']}  mean tokens {s['mean_tokens']:.1f}  "
            f"cut at the length limit {s['cut_at_limit']}"
        )


def print_comparison(summary: dict) -> None:
    for name, s in (summary.get("policies") or {}).items():
        if not s.get("n"):
            continue
        corr = s.get("pearson_length_score")
        _out(
            f"  {name:<12} score {s['mean']:.3f} +- {s['std']:.3f}  length {s['mean_chars']:.0f} "
            f"chars / {s['mean_tokens']:.1f} tokens  cut {s['cut_at_limit']}  "
            f"length-score r {'n/a' if corr is None else f'{corr:.2f}'}"
        )
    for c in summary.get("comparisons") or []:
        _out(
            f"  {c['a']} vs {c['b']}: mean difference {c['mean_diff']:+.3f}  wins {c['wins']}  "
            f"ties {c['ties']}  losses {c['losses']}  win rate {c['win_rate']:.1%}"
        )


def cmd_score_generations(args: argparse.Namespace) -> int:
    from preflens.cli import open_store, set_threads
    from training.generate_run import run_score_generations_job

    set_threads()
    result = run_score_generations_job(
        open_store(),
        args.rm,
        args.run,
        batch_size=args.batch_size,
        max_length=args.max_length,
        head_seed=args.head_seed,
        tie_margin=args.tie_margin,
    )
    state = "already complete, reused" if result.reused else f"scored {result.done_now} answers"
    _out(f"generation scoring run {result.run.id} ({state})")
    print_comparison(result.run.summary or {})
    return 0


def _common_training(p: argparse.ArgumentParser, lr: float, what: str) -> None:
    p.add_argument(
        "--model",
        default=EMBEDDED_MODEL_ALIAS,
        help="starting checkpoint: folder, .gguf, hub id or alias (default: %(default)s)",
    )
    p.add_argument("--dataset", required=True, help="dataset name or id")
    p.add_argument("--train-split", default="train", help="(default: %(default)s)")
    p.add_argument("--eval-split", default="test", help="(default: %(default)s)")
    p.add_argument("--output", help=f"checkpoint folder (default: DATA_DIR/checkpoints/{what}-...)")
    p.add_argument("--epochs", type=float, default=1.0, help="(default: %(default)s)")
    p.add_argument("--lr", type=float, default=lr, help="peak learning rate (default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=8, help="pairs per device step (default: 8)")
    p.add_argument("--grad-accum", type=int, default=1, help="gradient accumulation (default: 1)")
    p.add_argument(
        "--max-length", type=int, default=512, help="tokens per conversation (default: %(default)s)"
    )
    p.add_argument("--max-steps", type=int, default=-1, help="stop after N steps (default: epochs)")
    p.add_argument("--logging-steps", type=int, default=10, help="(default: %(default)s)")
    p.add_argument("--eval-steps", type=int, help="evaluate every N steps (default: at the end)")
    p.add_argument("--warmup-ratio", type=float, default=0.03, help="linear warm-up share (0.03)")
    p.add_argument("--scheduler", default="cosine", help="learning-rate schedule (cosine)")
    p.add_argument("--seed", type=int, default=0, help="(default: 0)")
    p.add_argument("--limit", type=int, help="train on the first N pairs only")
    p.add_argument(
        "--train-layers",
        type=int,
        help="train only the last N transformer blocks (and the RM head); default: all",
    )
    p.add_argument("--eval-limit", type=int, help="evaluate (and score) the first N pairs only")


def add_job_parsers(sub: argparse._SubParsersAction) -> None:
    """Register train-rm, train-dpo, generate and score-generations."""
    p = sub.add_parser("train-rm", help="train a reward model (Bradley-Terry)")
    _common_training(p, 2e-5, "rm")
    p.add_argument(
        "--no-score-before",
        dest="score_before",
        action="store_false",
        help="skip scoring the eval split with the untrained head",
    )
    p.add_argument(
        "--no-score-after",
        dest="score_after",
        action="store_false",
        help="skip scoring the eval split with the trained RM",
    )
    p.set_defaults(func=cmd_train_rm)

    p = sub.add_parser("train-dpo", help="train a policy with DPO, IPO, hinge, SimPO or ORPO")
    _common_training(p, 1e-6, "dpo")
    p.add_argument(
        "--loss",
        default="sigmoid",
        choices=["sigmoid", "ipo", "hinge", "simpo", "orpo"],
        help="sigmoid = DPO (default); simpo and orpo need no reference model",
    )
    p.add_argument("--beta", type=float, default=0.1, help="(default: %(default)s)")
    p.add_argument("--simpo-gamma", type=float, default=0.5, help="SimPO target margin (0.5)")
    p.add_argument(
        "--precompute-ref",
        action="store_true",
        help="compute the reference log-probs once before training",
    )
    p.add_argument(
        "--gradient-checkpointing",
        action="store_true",
        help="recompute activations to save memory (slower)",
    )
    p.set_defaults(func=cmd_train_dpo)

    p = sub.add_parser("generate", help="let named policies answer the prompts of a split")
    p.add_argument(
        "--policy",
        action="append",
        required=True,
        metavar="NAME=MODEL",
        help="a policy to run (repeatable), e.g. base=smollm2-135m-instruct",
    )
    p.add_argument("--dataset", required=True, help="dataset name or id")
    p.add_argument("--split", default="test", help="split, or 'all' (default: test)")
    p.add_argument("--max-new-tokens", type=int, default=512, help="(default: %(default)s)")
    p.add_argument("--temperature", type=float, default=0.7, help="0 for greedy (default: 0.7)")
    p.add_argument("--top-p", type=float, default=0.9, help="(default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="(default: 0)")
    p.add_argument("--batch-size", type=int, default=8, help="prompts per batch (default: 8)")
    p.add_argument("--limit", type=int, help="answer the first N prompts only")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("score-generations", help="score a generation run's answers with an RM")
    p.add_argument("--rm", required=True, help="reward model (any model form)")
    p.add_argument("--run", type=int, required=True, help="id of the generation run")
    p.add_argument("--batch-size", type=int, default=8, help="(default: 8)")
    p.add_argument("--max-length", type=int, default=1024, help="(default: %(default)s)")
    p.add_argument("--head-seed", type=int, default=0, help="(default: 0)")
    p.add_argument(
        "--tie-margin",
        type=float,
        default=0.0,
        help="score differences within this margin count as ties (default: 0)",
    )
    p.set_defaults(func=cmd_score_generations)
