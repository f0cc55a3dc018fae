"""The demo pipeline behind ``preflens demo`` / ``make demo``.

On the embedded model and the demo set: ingest, score the test split with the untrained
reward model, train the RM and score again, train a DPO policy, let the base and DPO
policies answer test prompts, score those answers with the trained RM, probe the trained
RM with counterfactual edits, and score the DPO policy per pair against the base. Every step is a
normal job, so a second run reuses each finished step.

``run_demo`` yields one ``DemoStep`` per finished step (the command line prints them as
they come); it prints nothing itself. Sizes are chosen for a 2-core CPU (about a quarter
of an hour): only the last transformer blocks are trained, on part of the training split,
with short answers. Each ``*_DEMO`` mapping states only what differs from the job's
defaults in ``training.configs``; the same commands with those defaults are what a GPU
user runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from preflens.config import EMBEDDED_MODEL_ALIAS, get_settings

DEMO_DATASET = "demo"
MAX_LENGTH = 256  # every demo conversation fits
RM_DEMO = {"lr": 1e-4, "limit": 240, "train_layers": 2, "logging_steps": 5}
DPO_DEMO = {
    "lr": 5e-5,
    "limit": 160,
    "train_layers": 2,
    "precompute_ref": True,
    "logging_steps": 2,
}
GEN_DEMO = {"limit": 32, "max_new_tokens": 64}
PROBE_DEMO = {"limit": 8}  # 8 pairs x 2 sides x (8 edits + original): 144 texts
SCORE_DPO_DEMO = {"limit": 16}
STEPS = 8


@dataclass
class DemoStep:
    """One finished step: its number, title and what it produced (``kind`` says how to
    show ``result``: model, ingest, rm, dpo, generate, compare, probe, score_dpo)."""

    number: int
    title: str
    kind: str
    result: Any
    total: int = STEPS


def run_demo(
    make_session: sessionmaker[Session],
    on_start: Callable[[int, int, str], None] | None = None,
) -> Iterator[DemoStep]:
    """Run every step, yielding each as it finishes; the last step's result also carries
    the paths of the trained RM and DPO policy (``paths``). ``on_start(number, total,
    title)`` is called as each step begins, so a caller can announce a step before the
    step's own progress output."""

    def start(number: int, title: str) -> str:
        if on_start is not None:
            on_start(number, STEPS, title)
        return title

    from training.configs import DPOTrainConfig, GenerateConfig, RMTrainConfig
    from training.demo_data import write_demo_dataset
    from training.fetch import pull_embedded_model
    from training.jobs.generate import run_generate_job
    from training.jobs.ingest import ingest
    from training.jobs.score_generations import run_score_generations_job
    from training.jobs.train_dpo import train_dpo
    from training.jobs.train_rm import train_rm

    title = start(1, "embedded model")
    path, created = pull_embedded_model()
    yield DemoStep(
        1,
        title,
        "model",
        {"name": EMBEDDED_MODEL_ALIAS, "path": path, "created": created},
    )

    title = start(2, "demo preference data")
    data_file = get_settings().data_dir.resolve() / "demo" / "demo_prefs.jsonl"
    data_file.parent.mkdir(parents=True, exist_ok=True)
    write_demo_dataset(data_file)
    report = ingest(make_session, data_file, fmt="trl", name=DEMO_DATASET)
    yield DemoStep(2, title, "ingest", report)

    common = {"dataset": DEMO_DATASET, "model": EMBEDDED_MODEL_ALIAS, "max_length": MAX_LENGTH}
    title = start(3, "reward model: score the test split, train, score again")
    rm_run = train_rm(make_session, RMTrainConfig(**common, **RM_DEMO)).run
    yield DemoStep(3, title, "rm", rm_run)
    rm_path = rm_run.summary["output"]

    title = start(4, "DPO policy (beta 0.1, reference log-probs precomputed)")
    dpo_run = train_dpo(make_session, DPOTrainConfig(**common, **DPO_DEMO)).run
    yield DemoStep(4, title, "dpo", dpo_run)
    dpo_path = dpo_run.summary["output"]

    gen_cfg = GenerateConfig(dataset=DEMO_DATASET, **GEN_DEMO)
    title = start(5, f"base and DPO answer {gen_cfg.limit} test prompts")
    policies = {"base": EMBEDDED_MODEL_ALIAS, "dpo": dpo_path}
    gen = run_generate_job(
        make_session,
        policies,
        DEMO_DATASET,
        gen_cfg.split,
        **{k: v for k, v in vars(gen_cfg).items() if k not in ("dataset", "split")},
    ).run
    yield DemoStep(5, title, "generate", gen)

    title = start(6, "score the answers with the trained RM")
    cmp_run = run_score_generations_job(
        make_session, rm_path, gen.id, max_length=MAX_LENGTH + gen_cfg.max_new_tokens
    ).run
    result = {
        "run": cmp_run,
        "paths": {"rm": rm_path, "dpo": dpo_path},
        "runs": {
            "rm": rm_run.id,
            "dpo": dpo_run.id,
            "generation": gen.id,
            "comparison": cmp_run.id,
        },
    }
    yield DemoStep(6, title, "compare", result)

    from training.jobs.probe import run_probe_job
    from training.jobs.score_dpo import run_score_dpo_job

    title = start(
        7, f"probe the trained RM with counterfactual edits of {PROBE_DEMO['limit']} test pairs"
    )
    probe_run = run_probe_job(
        make_session, rm_path, DEMO_DATASET, "test", max_length=MAX_LENGTH, **PROBE_DEMO
    ).run
    runs = {**result["runs"], "probe": probe_run.id}
    yield DemoStep(7, title, "probe", {**result, "run": probe_run, "runs": runs})

    title = start(8, f"DPO policy vs the base, per pair, on {SCORE_DPO_DEMO['limit']} test pairs")
    dpo_scores = run_score_dpo_job(
        make_session,
        dpo_path,
        EMBEDDED_MODEL_ALIAS,
        DEMO_DATASET,
        "test",
        beta=DPO_DEMO.get("beta", 0.1),
        max_length=MAX_LENGTH,
        **SCORE_DPO_DEMO,
    ).run
    runs = {**runs, "score_dpo": dpo_scores.id}
    yield DemoStep(8, title, "score_dpo", {**result, "run": dpo_scores, "runs": runs})
