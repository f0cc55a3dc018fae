"""Trainer callbacks that write training metrics and progress into the store."""

from __future__ import annotations

import math

from sqlalchemy.orm import Session, sessionmaker
from transformers import PrinterCallback, ProgressCallback, Trainer, TrainerCallback

from db import runs
from db.session import writing

# Trainer log keys -> metric names in the store ("train/..." and "eval/...").
RENAMES = {
    "loss": "train/loss",
    "learning_rate": "train/learning_rate",
    "grad_norm": "train/grad_norm",
    "epoch": "train/epoch",
}


def metric_name(key: str) -> str | None:
    if key in RENAMES:
        return RENAMES[key]
    if key.startswith("eval_"):
        return "eval/" + key[len("eval_") :]
    if key.endswith(("_runtime", "_per_second")) or key in ("total_flos", "train_loss"):
        return None
    return "train/" + key


class StoreMetricsCallback(TrainerCallback):
    """Every log (training or evaluation) becomes metric rows; progress follows steps."""

    def __init__(self, make_session: sessionmaker[Session], run_id: int):
        self.make_session = make_session
        self.run_id = run_id

    def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: ANN001
        if not state.is_world_process_zero or not logs:
            return
        values = {}
        for key, value in logs.items():
            name = metric_name(key)
            if name and isinstance(value, int | float) and math.isfinite(value):
                values[name] = float(value)
        with writing(self.make_session) as session:
            runs.write_metrics(session, self.run_id, state.global_step, values)

    def on_step_end(self, args, state, control, **kwargs):  # noqa: ANN001
        if not state.is_world_process_zero or not state.max_steps:
            return
        if state.global_step % max(1, args.logging_steps) and state.global_step != state.max_steps:
            return  # write progress at logging steps only; one row update, not one per step
        with writing(self.make_session) as session:
            runs.set_progress(session, self.run_id, state.global_step, state.max_steps)


class QuietProgressCallback(ProgressCallback):
    """The trainer's progress bar without its log lines: every log already goes to the
    store (and to ``preflens runs`` and the dashboard), so the raw ``{'loss': ...}`` dicts
    the stock callback writes under the bar say nothing new and break the command's
    output."""

    def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: ANN001
        return None


def quiet_console_logs(trainer: Trainer) -> None:
    """Keep the trainer's progress bar (if any) but drop its printed log dicts."""
    had_bar = any(isinstance(cb, ProgressCallback) for cb in trainer.callback_handler.callbacks)
    trainer.remove_callback(ProgressCallback)
    trainer.remove_callback(PrinterCallback)
    if had_bar:
        trainer.add_callback(QuietProgressCallback)
