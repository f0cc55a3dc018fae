"""DPO-family policy training behind ``preflens train-dpo``, on TRL's trainers.

Losses: ``sigmoid`` (DPO), ``ipo`` and ``hinge`` through ``DPOTrainer`` against a frozen
reference (the starting model, or ``--ref``); the reference-free ``simpo`` (``CPOTrainer``) and
``orpo`` (``ORPOTrainer``). Every logging step's loss, implicit rewards of both sides,
margins, accuracies and log-probs go into the store.
"""

from __future__ import annotations

import logging
from typing import Any

import torch
from sqlalchemy.orm import Session, sessionmaker

from db import runs
from db.lookup import run_record
from db.read.series import series_points
from db.session import writing
from preflens.errors import ConfigError, PrefLensError
from preflens.fingerprint import model_fingerprint
from training import distributed as dist
from training.callbacks import StoreMetricsCallback, quiet_console_logs
from training.configs import LOSSES, REFERENCE_FREE, DPOTrainConfig
from training.fetch import resolve_model
from training.jobs import JobResult
from training.jobs.training import (
    common_trainer_args,
    finish_training,
    open_training_job,
    place_tracker_logs,
    trainer_output_dir,
)
from training.loading import freeze_all_but_last
from training.scoring import encode
from training.series import SeriesCallback, series_dir

log = logging.getLogger(__name__)


def preference_rows(pairs: list[Any]) -> list[dict[str, Any]]:
    """Pairs in TRL's conversational preference layout."""
    return [
        {
            "prompt": p.prompt,
            "chosen": [{"role": "assistant", "content": p.chosen}],
            "rejected": [{"role": "assistant", "content": p.rejected}],
        }
        for p in pairs
    ]


def trainer_args(
    cfg: DPOTrainConfig, output_dir: str, has_eval: bool, progress: bool = True
) -> Any:
    """The TRL config object for ``cfg.loss`` (fp32 on CPU, bf16 on a GPU that has it)."""
    if cfg.loss not in LOSSES:
        raise PrefLensError(f"--loss {cfg.loss!r}: choose one of {', '.join(LOSSES)}")
    common = dict(
        **common_trainer_args(cfg, output_dir, has_eval, progress),
        activation_checkpointing=cfg.gradient_checkpointing,
        max_length=cfg.max_length,
        beta=cfg.beta,
    )
    if cfg.loss == "simpo":
        from trl.experimental.cpo import CPOConfig

        return CPOConfig(loss_type="simpo", cpo_alpha=0.0, simpo_gamma=cfg.simpo_gamma, **common)
    if cfg.loss == "orpo":
        from trl.experimental.orpo import ORPOConfig

        return ORPOConfig(**common)
    from trl import DPOConfig

    return DPOConfig(loss_type=[cfg.loss], precompute_ref_log_probs=cfg.precompute_ref, **common)


def build_trainer(
    cfg: DPOTrainConfig,
    model: Any,
    tokenizer: Any,
    train_rows: list[dict],
    eval_rows: list[dict],
    output_dir: str,
    callbacks: list | None = None,
    progress: bool = True,
    ref_model: Any = None,
) -> Any:
    """The TRL trainer for ``cfg`` (used by the job and by the from-scratch notebook);
    ``ref_model`` is DPOTrainer's reference (None: a copy of the starting model)."""
    from datasets import Dataset

    args = trainer_args(cfg, output_dir, bool(eval_rows), progress)
    kwargs = dict(
        model=model,
        args=args,
        train_dataset=Dataset.from_list(train_rows),
        eval_dataset=Dataset.from_list(eval_rows) if eval_rows else None,
        processing_class=tokenizer,
        callbacks=callbacks or [],
    )
    if cfg.loss == "simpo":
        from trl.experimental.cpo import CPOTrainer

        return CPOTrainer(**kwargs)
    if cfg.loss == "orpo":
        from trl.experimental.orpo import ORPOTrainer

        return ORPOTrainer(**kwargs)
    from trl import DPOTrainer

    return DPOTrainer(**kwargs, ref_model=ref_model)


def length_report(tokenizer: Any, pairs: list[Any], max_length: int) -> dict[str, int]:
    """Pairs whose conversation exceeds ``max_length`` (TRL keeps their start) and pairs
    whose prompt alone fills it (TRL leaves those out: no response token would remain)."""
    truncated = dropped = 0
    for p in pairs:
        prompt = tokenizer.apply_chat_template(p.prompt, add_generation_prompt=True, tokenize=False)
        n_prompt = len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
        longest = max(
            encode(tokenizer, p.prompt, r, 10**9).n_tokens for r in (p.chosen, p.rejected)
        )
        truncated += longest > max_length
        dropped += n_prompt >= max_length
    return {"truncated_pairs": truncated, "dropped_pairs": dropped}


def train_dpo(
    make_session: sessionmaker[Session], cfg: DPOTrainConfig, progress: bool = True
) -> JobResult:
    """Train a policy with a DPO-family loss; save it with ``run.json``."""
    from training.loading import load_policy

    dist.init()
    if cfg.eval_every is not None and dist.world_size() > 1:
        raise ConfigError("--eval-every runs in one process: start train-dpo without accelerate")
    if cfg.ref is not None and cfg.loss in REFERENCE_FREE:
        raise ConfigError(f"--ref: the {cfg.loss} loss uses no reference model")
    # An unset eval_every or ref stays out of the key, so runs made before them are found;
    # a set reference counts by its weights' fingerprint (its adapter's base too).
    skip = ("keep_checkpoints", "ref", *(("eval_every",) if cfg.eval_every is None else ()))
    ref_path = resolve_model(cfg.ref) if cfg.ref is not None else None
    extra = {"ref": model_fingerprint(ref_path)} if ref_path is not None else {}
    job = open_training_job(
        make_session,
        cfg,
        "train_dpo",
        resolve_model(cfg.model),
        cfg.loss,
        not_in_key=skip,
        extra_key=extra,
    )
    if job.reuse:
        with make_session() as session:
            return JobResult(run_record(session, job.run_id), reused=True, done_now=0)

    with runs.failing_marks_run(make_session, job.run_id):
        torch.manual_seed(cfg.seed)
        policy = load_policy(job.base_path, "policy", device="cpu")
        if cfg.train_layers:
            freeze_all_but_last(policy.model, cfg.train_layers)
        # None: TRL's own copy of the starting model is the reference.
        ref_model = load_policy(ref_path, "reference", device="cpu").model if ref_path else None
        lengths = length_report(policy.tokenizer, job.train_pairs, cfg.max_length)
        if lengths["truncated_pairs"]:
            log.warning(
                "%d of %d pairs exceed %d tokens (their ends are cut; %d with an "
                "over-long prompt are left out by the trainer)",
                lengths["truncated_pairs"],
                len(job.train_pairs),
                cfg.max_length,
                lengths["dropped_pairs"],
            )
        if dist.is_main():
            with writing(make_session) as session:
                runs.clear_metrics(session, job.run_id)
        callbacks = [StoreMetricsCallback(make_session, job.run_id)] if dist.is_main() else []
        if cfg.eval_every is not None and job.eval_pairs:
            callbacks.append(_series_callback(make_session, cfg, job, policy.tokenizer, progress))
        trainer = build_trainer(
            cfg,
            policy.model,
            policy.tokenizer,
            preference_rows(job.train_pairs),
            preference_rows(job.eval_pairs),
            trainer_output_dir(job),
            callbacks,
            progress,
            ref_model,
        )
        place_tracker_logs(trainer, job.run_id)
        quiet_console_logs(trainer)  # metrics go to the store, not as dicts to stdout
        result = trainer.train()
        final_eval = trainer.evaluate() if job.eval_pairs else {}
        if dist.is_main():
            train_logs = [h for h in trainer.state.log_history if "loss" in h]
            finish_training(
                make_session,
                job,
                cfg,
                trainer,
                policy.tokenizer,
                "policy",
                {
                    "train_pairs": len(job.train_pairs),
                    **lengths,
                    "train_loss": result.training_loss,
                    "last": train_logs[-1] if train_logs else {},
                    **final_eval,
                    "loss_type": cfg.loss,
                },
                train_pairs=len(job.train_pairs),
                **lengths,
                train_loss=result.training_loss,
                final_eval=final_eval,
            )
    dist.barrier()
    if cfg.eval_every is not None and dist.is_main():
        with writing(make_session) as session:
            points = series_points(session, job.run_id)
            runs.update_summary(session, job.run_id, series_steps=[s for s, _ in points])
    with make_session() as session:
        run = run_record(session, job.run_id)
    return JobResult(run, reused=False, done_now=len(job.train_pairs))


def _series_callback(make_session, cfg, job, tokenizer, progress) -> SeriesCallback:  # noqa: ANN001
    """Every ``cfg.eval_every`` steps: save the policy and run score-dpo on the eval split
    with it (against the starting model, or reference-free for SimPO and ORPO)."""
    from training.jobs.score_dpo import run_score_dpo_job

    reference = None if cfg.loss in REFERENCE_FREE else (cfg.ref or cfg.model)

    def score(model: str, step: int) -> int:
        result = run_score_dpo_job(
            make_session,
            model,
            reference,
            cfg.dataset,
            cfg.eval_split,
            beta=cfg.beta,
            limit=cfg.eval_limit,
            max_length=cfg.max_length,
            progress=progress,
        )
        with writing(make_session) as session:
            runs.link_series(session, result.run.id, job.run_id, step)
        return result.run.id

    return SeriesCallback(
        series_dir(job.output), cfg.eval_every, cfg.keep_checkpoints, tokenizer, score
    )
