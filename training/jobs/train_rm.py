"""Reward-model training (Bradley-Terry) behind ``preflens train-rm``.

loss = -log sigmoid(r_chosen - r_rejected), with r read by the scalar head at the last
non-padding token, exactly as ``training.scoring`` scores (so a trained RM is scored the
way it was trained). Training runs on the transformers ``Trainer`` (optimizer, cosine
schedule with linear warm-up, gradient accumulation, data-parallel under
``accelerate launch``); this module adds the pairwise loss, accuracy and margin logging,
evaluation on the test split, and the store.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from sqlalchemy.orm import Session, sessionmaker
from transformers import Trainer, TrainingArguments

from db import read, runs
from db.lookup import run_record
from db.read.series import series_points
from db.session import writing
from preflens.errors import ConfigError
from preflens.rm_label import head_untrained
from training import distributed as dist
from training.callbacks import StoreMetricsCallback, metric_name, quiet_console_logs
from training.configs import RMTrainConfig
from training.fetch import resolve_model
from training.jobs import JobResult
from training.jobs.training import (
    TrainingJob,
    common_trainer_args,
    finish_training,
    open_training_job,
    place_tracker_logs,
    trainer_output_dir,
)
from training.loading import RewardModel, freeze_all_but_last, load_reward_model
from training.scoring import encode, pad_batch, reward_forward
from training.series import SeriesCallback, score_checkpoint, series_dir

log = logging.getLogger(__name__)


@dataclass
class EncodedPair:
    chosen: list[int]
    rejected: list[int]
    truncated: bool


def encode_pairs(rm: RewardModel, pairs: list[Any], max_length: int) -> list[EncodedPair]:
    """Encode both sides; an over-long conversation keeps its end and is counted."""
    out = []
    for p in pairs:
        c = encode(rm.tokenizer, p.prompt, p.chosen, max_length)
        r = encode(rm.tokenizer, p.prompt, p.rejected, max_length)
        out.append(EncodedPair(c.ids, r.ids, c.truncated or r.truncated))
    return out


def collate(pad_id: int):
    def fn(batch: list[EncodedPair]) -> dict[str, torch.Tensor]:
        # Both sides in one padded block: one forward pass per step.
        ids, mask = pad_batch([b.chosen for b in batch] + [b.rejected for b in batch], pad_id)
        return {"input_ids": ids, "attention_mask": mask}

    return fn


def pairwise_loss(rewards: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Bradley-Terry loss over a [chosen..., rejected...] reward vector; also returns
    per-pair correctness and margins."""
    n = rewards.shape[0] // 2
    margin = rewards[:n] - rewards[n:]
    return -F.logsigmoid(margin).mean(), (margin > 0).float(), margin


class RewardPairTrainer(Trainer):
    """``Trainer`` with the pairwise loss; logs accuracy and margin with the loss and
    evaluates loss and accuracy on the held-out pairs."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._acc: list[float] = []
        self._margin: list[float] = []

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):  # noqa: ANN001
        rewards = reward_forward(model, inputs["input_ids"], inputs["attention_mask"])
        loss, correct, margin = pairwise_loss(rewards)
        self._acc.extend(correct.detach().cpu().tolist())
        self._margin.extend(margin.detach().cpu().tolist())
        return (loss, {"rewards": rewards}) if return_outputs else loss

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        if "loss" in logs and self._acc:
            logs["accuracy"] = sum(self._acc) / len(self._acc)
            logs["margin"] = sum(self._margin) / len(self._margin)
            self._acc.clear()
            self._margin.clear()
        super().log(logs, start_time)

    @torch.no_grad()
    def evaluate(self, eval_dataset=None, ignore_keys=None, metric_key_prefix="eval"):  # noqa: ANN001
        data = eval_dataset if eval_dataset is not None else self.eval_dataset
        model = self.model
        was_training = model.training
        model.eval()
        losses, correct = [], []
        loader = self.get_eval_dataloader(data)
        for batch in loader:
            batch = self._prepare_inputs(batch)
            rewards = reward_forward(model, batch["input_ids"], batch["attention_mask"])
            loss, ok, _ = pairwise_loss(rewards)
            n = ok.shape[0]
            losses.append(self.accelerator.gather_for_metrics(loss.detach().repeat(n)))
            correct.append(self.accelerator.gather_for_metrics(ok))
        if was_training:
            model.train()
        metrics = {
            f"{metric_key_prefix}_loss": torch.cat(losses).mean().item(),
            f"{metric_key_prefix}_accuracy": torch.cat(correct).mean().item(),
        }
        self.log(metrics)
        return metrics


def train_rm(
    make_session: sessionmaker[Session], cfg: RMTrainConfig, progress: bool = True
) -> JobResult:
    """Train a reward model, save it with ``run.json``, and score the eval split before
    and after training (two ordinary score runs over the same pairs)."""
    dist.init()
    if cfg.eval_every is not None and dist.world_size() > 1:
        raise ConfigError("--eval-every runs in one process: start train-rm without accelerate")
    job = open_training_job(
        make_session,
        cfg,
        "train_rm",
        resolve_model(cfg.model),
        "rm",
        # keep_checkpoints changes only the disk; an unset eval_every stays out of the key
        # so that runs made before the option existed are still found.
        not_in_key=(
            "score_before",
            "score_after",
            "keep_checkpoints",
            "keep_states",
            *(("eval_every",) if cfg.eval_every is None else ()),
        ),
    )
    if not job.reuse:
        with runs.failing_marks_run(make_session, job.run_id):
            _train(make_session, cfg, job, progress)
    dist.barrier()
    if cfg.score_before or cfg.score_after:
        _score_before_after(make_session, cfg, job.run_id, job.output, progress)
    if cfg.eval_every is not None and dist.is_main():
        with writing(make_session) as session:
            points = series_points(session, job.run_id)
            runs.update_summary(session, job.run_id, series_steps=[s for s, _ in points])
    with make_session() as session:
        run = run_record(session, job.run_id)
    return JobResult(run, reused=job.reuse, done_now=0 if job.reuse else len(job.train_pairs))


def _train(
    make_session: sessionmaker[Session], cfg: RMTrainConfig, job: TrainingJob, progress: bool
) -> None:
    torch.manual_seed(cfg.seed)
    rm = load_reward_model(job.base_path, device="cpu", head_seed=cfg.seed)
    if cfg.train_layers:
        freeze_all_but_last(rm.model, cfg.train_layers)
    train_data = encode_pairs(rm, job.train_pairs, cfg.max_length)
    eval_data = encode_pairs(rm, job.eval_pairs, cfg.max_length)
    truncated = sum(p.truncated for p in train_data)
    if truncated:
        log.warning(
            "%d of %d training pairs are longer than %d tokens: kept their ends",
            truncated,
            len(train_data),
            cfg.max_length,
        )
    args = TrainingArguments(
        **common_trainer_args(cfg, trainer_output_dir(job), bool(eval_data), progress),
        weight_decay=cfg.weight_decay,
        remove_unused_columns=False,
    )
    callbacks: list[Any] = (
        [StoreMetricsCallback(make_session, job.run_id)] if dist.is_main() else []
    )
    if cfg.eval_every is not None and eval_data:
        callbacks.append(_series_callback(make_session, cfg, job, rm.tokenizer, progress))
    trainer = RewardPairTrainer(
        model=rm.model,
        args=args,
        train_dataset=train_data,
        eval_dataset=eval_data or None,
        data_collator=collate(rm.tokenizer.pad_token_id),
        callbacks=callbacks,
    )
    place_tracker_logs(trainer, job.run_id)
    quiet_console_logs(trainer)  # metrics go to the store, not as dicts to stdout
    if dist.is_main():
        with writing(make_session) as session:
            runs.clear_metrics(session, job.run_id)  # a restarted run logs from step 0 again
    result = trainer.train()
    # With score_after the eval split is scored as a normal run right after training; its
    # numbers become the final eval point (see _score_before_after), not a second pass here.
    final_eval = trainer.evaluate() if eval_data and not cfg.score_after else {}
    if not dist.is_main():
        return
    finish_training(
        make_session,
        job,
        cfg,
        trainer,
        rm.tokenizer,
        "rm",
        {
            "train_pairs": len(train_data),
            "truncated_pairs": truncated,
            "train_loss": result.training_loss,
            **final_eval,
        },
        train_pairs=len(train_data),
        truncated_train_pairs=truncated,
        eval_pairs=len(eval_data),
        train_loss=result.training_loss,
        final_eval=final_eval,
    )


def _series_callback(make_session, cfg, job, tokenizer, progress) -> SeriesCallback:  # noqa: ANN001
    """The callback that saves and scores a checkpoint every ``cfg.eval_every`` steps."""

    def score(model: str, step: int) -> int:
        return score_checkpoint(
            make_session,
            model,
            step,
            job.run_id,
            cfg.dataset,
            cfg.eval_split,
            batch_size=cfg.batch_size,
            max_length=cfg.max_length,
            limit=cfg.eval_limit,
            progress=progress,
        )

    return SeriesCallback(
        series_dir(job.output), cfg.eval_every, cfg.keep_checkpoints, tokenizer, score
    )


def _scored(run: Any) -> dict[str, Any]:
    """A before/after score run's entry in the training run's summary: its id, its
    summary and whether its head was initialised from a seed (``head_initialized``, from
    the run's ``rm_layout`` record), so every summary of the training run can say so."""
    head = head_untrained("score", run.config, None)
    return {"run": run.id, **(run.summary or {}), "head_initialized": head}


def _score_before_after(make_session, cfg, run_id, output, progress) -> None:  # noqa: ANN001
    from training.jobs.score import run_score_job

    common = {"batch_size": cfg.batch_size, "max_length": cfg.max_length, "progress": progress}
    summaries = {}
    final_eval: dict[str, float] = {}
    if cfg.score_before:
        before = run_score_job(
            make_session,
            cfg.model,
            cfg.dataset,
            cfg.eval_split,
            head_seed=cfg.seed,
            limit=cfg.eval_limit,
            **common,
        )
        summaries["before"] = _scored(before.run)
    if cfg.score_after:
        after = run_score_job(
            make_session,
            str(output),
            cfg.dataset,
            cfg.eval_split,
            parent_run_id=run_id,
            limit=cfg.eval_limit,
            keep_states=cfg.keep_states,
            **common,
        )
        summaries["after"] = _scored(after.run)
        with make_session() as session:
            gaps = torch.tensor(read.run_gaps(session, after.run.id))
        if len(gaps):
            final_eval = {
                "eval_loss": float(-F.logsigmoid(gaps).mean()),
                "eval_accuracy": float((gaps > 0).float().mean()),
            }
    if dist.is_main():
        with writing(make_session) as session:
            run = run_record(session, run_id)
            if final_eval and run.total:
                runs.write_metrics(
                    session, run_id, run.total, {metric_name(k): v for k, v in final_eval.items()}
                )
            runs.update_summary(session, run_id, **final_eval, scores=summaries)
