"""Datasets, runs and checkpoints: what the store holds and how far each job got."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from db.lookup import dataset_record, run_record
from db.ownership import shown_status
from db.read.common import iso, public, run_model, scored_run
from db.read.inputs import dataset_counts
from db.schema import (
    Checkpoint,
    Dataset,
    Pair,
    RejectedRow,
    Run,
)
from preflens.rm_label import head_untrained, rm_label, rm_record


def _file_name(value: str | None) -> str | None:
    """A stored file path as its last component only (relative paths too)."""
    return PurePath(public(value)).name or value if value else value


def _dataset_dict(ds: Dataset, splits: dict, categories: dict, reasons: dict) -> dict[str, Any]:
    return {
        "id": ds.id,
        "name": ds.name,
        "format": ds.format,
        "source": _file_name(ds.source),
        "created_at": iso(ds.created_at),
        "pairs": sum(splits.values()),
        "splits": splits,
        "categories": categories,
        "rejected": sum(reasons.values()),
        "reasons": reasons,
    }


def _grouped(session: Session, stmt: Select) -> dict[int, dict[str, int]]:
    out: dict[int, dict[str, int]] = {}
    for ds_id, key, n in session.execute(stmt):
        out.setdefault(ds_id, {})[key if key is not None else "(none)"] = int(n)
    return out


def list_datasets(session: Session) -> list[dict[str, Any]]:
    """Every dataset with pairs per split and per category, rejected rows per reason."""
    splits = _grouped(
        session,
        select(Pair.dataset_id, Pair.split, func.count()).group_by(Pair.dataset_id, Pair.split),
    )
    cats = _grouped(
        session,
        select(Pair.dataset_id, Pair.category, func.count()).group_by(
            Pair.dataset_id, Pair.category
        ),
    )
    reasons = _grouped(
        session,
        select(RejectedRow.dataset_id, RejectedRow.reason, func.count()).group_by(
            RejectedRow.dataset_id, RejectedRow.reason
        ),
    )
    return [
        _dataset_dict(ds, splits.get(ds.id, {}), cats.get(ds.id, {}), reasons.get(ds.id, {}))
        for ds in session.scalars(select(Dataset).order_by(Dataset.id))
    ]


def get_dataset(session: Session, name_or_id: str | int, examples: int = 20) -> dict[str, Any]:
    """One dataset as in ``list_datasets`` plus its first ``examples`` rejected rows and
    ``shared_prompts`` (prompts that appear in more than one split)."""
    ds = dataset_record(session, name_or_id)
    where = Pair.dataset_id == ds.id
    splits = dict(
        session.execute(select(Pair.split, func.count()).where(where).group_by(Pair.split)).all()
    )
    cats = {
        (c if c is not None else "(none)"): n
        for c, n in session.execute(
            select(Pair.category, func.count()).where(where).group_by(Pair.category)
        )
    }
    counts = dataset_counts(session, ds.id)
    out = _dataset_dict(ds, splits, cats, counts["reasons"])
    # Prompts found in more than one split: a leak between train and test.
    out["shared_prompts"] = counts["shared_prompts"]
    rows = session.execute(
        select(RejectedRow.source_row, RejectedRow.reason, func.substr(RejectedRow.raw, 1, 300))
        .where(RejectedRow.dataset_id == ds.id)
        .order_by(RejectedRow.source_row)
        .limit(examples)
    )
    out["rejected_examples"] = [{"row": r, "reason": why, "raw": raw} for r, why, raw in rows]
    return out


def run_dict(run: Run) -> dict[str, Any]:
    """A run's bookkeeping fields; server paths are cut to their last component."""
    config = public(run.config or {})
    checkpoint_kind = run.checkpoint.kind if run.checkpoint else None
    return {
        "id": run.id,
        "kind": run.kind,
        "status": shown_status(run),
        "progress": run.progress,
        "total": run.total,
        "dataset": run.dataset.name if run.dataset else None,
        "dataset_id": run.dataset_id,
        "split": run.split,
        "model": run_model(run),
        "parent_run_id": run.parent_run_id,
        "head_initialized": head_untrained(run.kind, run.config, checkpoint_kind),
        "rm_layout": rm_record(config),
        "rm_label": rm_label(run.kind, run.config, checkpoint_kind),
        "config": config,
        "summary": public(run.summary),
        "error": public(run.error),
        "created_at": iso(run.created_at),
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        "updated_at": iso(run.updated_at),
    }


def list_runs(
    session: Session,
    kind: str | None = None,
    status: str | None = None,
    dataset: str | int | None = None,
) -> list[dict[str, Any]]:
    """Runs, oldest first, optionally of one kind, status or dataset."""
    stmt = select(Run).order_by(Run.id)
    if kind:
        stmt = stmt.where(Run.kind == kind)
    if status:
        stmt = stmt.where(Run.status == status)
    if dataset is not None:
        stmt = stmt.where(Run.dataset_id == dataset_record(session, dataset).id)
    return [run_dict(r) for r in session.scalars(stmt)]


def get_run(session: Session, run_id: int) -> dict[str, Any]:
    """One run (``NotFoundError`` when there is none)."""
    return run_dict(run_record(session, run_id))


def list_checkpoints(session: Session) -> list[dict[str, Any]]:
    """Checkpoints, oldest first: name, kind (base, rm, policy), base model and the runs
    that made or used them; server paths are cut to their last component."""
    used: dict[int, list[int]] = {}
    for ckpt_id, run_id in session.execute(
        select(Run.checkpoint_id, Run.id).where(Run.checkpoint_id.is_not(None)).order_by(Run.id)
    ):
        used.setdefault(ckpt_id, []).append(run_id)
    return [
        {
            "id": c.id,
            "name": public(c.name),
            "kind": c.kind,
            "path": _file_name(c.path),
            "base": public(c.base),
            "created_at": iso(c.created_at),
            "runs": used.get(c.id, []),
        }
        for c in session.scalars(select(Checkpoint).order_by(Checkpoint.id))
    ]


def run_scorer(session: Session, run_id: int) -> dict[str, Any]:
    """Which reward model scored a score or score_generations run, and how: its name
    (server paths cut), weights fingerprint, max length and head seed (so a live score
    can say whether it is comparable with the run's)."""
    run = scored_run(session, run_id)
    config = run.config or {}
    return {
        "run_id": run.id,
        "model": run_model(run),
        "model_fingerprint": run.model_fingerprint,
        "max_length": config.get("max_length"),
        "head_seed": config.get("head_seed"),
    }
