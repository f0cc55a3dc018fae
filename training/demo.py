"""The demo pipeline behind ``preflens demo`` / ``make demo``.

On the embedded model and the demo set: ingest, score the test split with the untrained
reward model, train the RM and score again, train a DPO policy, let the base and DPO
policies answer test prompts, score those answers with the trained RM, print the
summaries. Every step is a normal job, so a second run reuses each finished step.

Sizes are chosen for a 2-core CPU (about a quarter of an hour): only the last transformer blocks
are trained, on part of the training split, with short answers. The same commands with
their default sizes are what a GPU user runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from preflens.config import EMBEDDED_MODEL_ALIAS, get_settings

log = logging.getLogger(__name__)
DEMO_DATASET = "demo"
MAX_LENGTH = 256  # every demo conversation fits
RM_DEMO = {
    "lr": 1e-4,
    "epochs": 1.0,
    "batch_size": 8,
    "limit": 240,
    "train_layers": 2,
    "logging_steps": 5,
    "max_length": MAX_LENGTH,
}
DPO_DEMO = {
    "lr": 5e-5,
    "beta": 0.1,
    "batch_size": 8,
    "limit": 160,
    "train_layers": 2,
    "precompute_ref": True,
    "logging_steps": 2,
    "max_length": MAX_LENGTH,
}
GEN_DEMO = {
    "limit": 32,
    "max_new_tokens": 64,
    "temperature": 0.7,
    "top_p": 0.9,
    "seed": 0,
    "batch_size": 8,
}


def run_demo(make_session: sessionmaker[Session], out: Callable[[str], None]) -> dict:
    """Run every step; returns the ids of the runs it made or reused."""
    from preflens.cli import print_ingest_report, print_score_summary
    from preflens.cli_jobs import print_comparison, print_generation_summary, print_training_summary
    from training.demo_data import write_demo_dataset
    from training.generate_run import run_generate_job, run_score_generations_job
    from training.ingest import ingest
    from training.models import pull_embedded_model
    from training.train_dpo import DPOTrainConfig, train_dpo
    from training.train_rm import RMTrainConfig, train_rm

    out("== 1/6 embedded model")
    path, created = pull_embedded_model()
    out(f"{'converted' if created else 'found'} {EMBEDDED_MODEL_ALIAS} at {path}")

    out("== 2/6 demo preference data")
    data_file = get_settings().data_dir.resolve() / "demo" / "demo_prefs.jsonl"
    data_file.parent.mkdir(parents=True, exist_ok=True)
    write_demo_dataset(data_file)
    print_ingest_report(ingest(make_session, data_file, fmt="trl", name=DEMO_DATASET))

    out("== 3/6 reward model: score the test split, train, score again")
    rm_cfg = RMTrainConfig(dataset=DEMO_DATASET, model=EMBEDDED_MODEL_ALIAS, **RM_DEMO)
    rm_run = train_rm(make_session, rm_cfg).run
    print_training_summary(rm_run)
    scores = rm_run.summary["scores"]
    print_score_summary(scores["before"], "  RM accuracy before training: ")
    print_score_summary(scores["after"], "  RM accuracy after training:  ")
    rm_path = rm_run.summary["output"]

    out("== 4/6 DPO policy (beta 0.1, reference log-probs precomputed)")
    dpo_cfg = DPOTrainConfig(dataset=DEMO_DATASET, model=EMBEDDED_MODEL_ALIAS, **DPO_DEMO)
    dpo_run = train_dpo(make_session, dpo_cfg).run
    print_training_summary(dpo_run)
    dpo_path = dpo_run.summary["output"]

    out(f"== 5/6 base and DPO answer {GEN_DEMO['limit']} test prompts")
    policies = {"base": EMBEDDED_MODEL_ALIAS, "dpo": dpo_path}
    gen = run_generate_job(make_session, policies, DEMO_DATASET, "test", **GEN_DEMO).run
    print_generation_summary(gen.summary or {})

    out("== 6/6 score the answers with the trained RM")
    cmp_run = run_score_generations_job(
        make_session, rm_path, gen.id, max_length=MAX_LENGTH + GEN_DEMO["max_new_tokens"]
    ).run
    print_comparison(cmp_run.summary or {})
    out("`preflens runs` lists every run of the demo.")
    return {
        "rm_path": rm_path,
        "dpo_path": dpo_path,
        "rm_run": rm_run.id,
        "dpo_run": dpo_run.id,
        "generation_run": gen.id,
        "comparison_run": cmp_run.id,
    }
