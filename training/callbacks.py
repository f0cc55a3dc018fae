"""Trainer callbacks that write training metrics and progress into the store."""

from __future__ import annotations

import math

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from transformers import TrainerCallback

from db.models import Metric, Run

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


def write_metrics(session: Session, run_id: int, step: int, values: dict[str, float]) -> None:
    """Insert or replace metric values for one step (a resumed run logs a step again)."""
    for name, value in values.items():
        existing = session.scalars(
            select(Metric).where(Metric.run_id == run_id, Metric.name == name, Metric.step == step)
        ).first()
        if existing is None:
            session.add(Metric(run_id=run_id, step=step, name=name, value=value))
        else:
            existing.value = value


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
        with self.make_session() as session:
            write_metrics(session, self.run_id, state.global_step, values)
            session.commit()

    def on_step_end(self, args, state, control, **kwargs):  # noqa: ANN001
        if not state.is_world_process_zero or not state.max_steps:
            return
        if state.global_step % max(1, args.logging_steps) and state.global_step != state.max_steps:
            return  # write progress at logging steps only; one row update, not one per step
        with self.make_session() as session:
            session.get(Run, self.run_id).progress = state.global_step / state.max_steps
            session.commit()
