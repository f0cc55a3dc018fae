"""The resumable batch scoring job behind ``preflens score``.

A run is identified by a key over (model path, dataset, split, max length, head seed):
the same command finds the same run. Each batch of pairs is written in its own
transaction together with the run's progress, so a crash loses at most one batch, and
the unique (run, pair) constraint means a pair can never get a second row.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker
from tqdm.auto import tqdm

from db import queries
from db.models import PairScore, Run
from training.models import RewardModel, load_reward_model, resolve_model
from training.score import encode, score_encoded

log = logging.getLogger(__name__)


@dataclass
class ScoreResult:
    run: Run
    reused: bool  # the run was already complete; nothing was scored
    scored_now: int  # pairs scored by this call


def job_key(**parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def run_score_job(
    make_session: sessionmaker[Session],
    model: str | RewardModel,
    dataset: str | int,
    split: str | None = "test",
    *,
    batch_size: int = 8,
    max_length: int = 512,
    head_seed: int = 0,
    on_batch: Callable[[int], None] | None = None,
    progress: bool = True,
) -> ScoreResult:
    """Score both responses of every pair in ``dataset``/``split`` with a reward model.

    ``batch_size`` counts pairs: each forward pass scores 2 x batch_size sequences.
    ``on_batch(k)`` is called after batch k (0-based) is committed.
    """
    path = model.path if isinstance(model, RewardModel) else resolve_model(model)
    with make_session() as session:
        ds = queries.get_dataset(session, dataset)
        key = job_key(
            model=path, dataset=ds.id, split=split, max_length=max_length, head_seed=head_seed
        )
        run = queries.find_run(session, "score", key)
        if run is not None and run.status == "done":
            return ScoreResult(run, reused=True, scored_now=0)
        total = queries.count_pairs(session, ds.id, split)
        if run is None:
            run = Run(
                kind="score",
                key=key,
                dataset_id=ds.id,
                split=split,
                total=total,
                config={
                    "model": str(model if isinstance(model, str) else model.spec),
                    "model_path": path,
                    "batch_size": batch_size,
                    "max_length": max_length,
                    "head_seed": head_seed,
                },
            )
            session.add(run)
        run.status, run.error, run.total = "running", None, total
        run.started_at = run.started_at or datetime.now(UTC)
        session.commit()
        run_id, dataset_id = run.id, ds.id

    try:
        scored = _score_missing(
            make_session,
            run_id,
            dataset_id,
            split,
            model,
            batch_size,
            max_length,
            head_seed,
            on_batch,
            progress,
        )
    except BaseException as exc:
        with make_session() as session:
            failed = session.get(Run, run_id)
            failed.status = "failed"
            failed.error = f"{type(exc).__name__}: {exc}"[:2000]
            session.commit()
        raise

    with make_session() as session:
        run = session.get(Run, run_id)
        run.summary = queries.score_summary(session, run_id)
        run.status, run.progress = "done", 1.0
        run.finished_at = datetime.now(UTC)
        session.commit()
        return ScoreResult(run, reused=False, scored_now=scored)


def _score_missing(
    make_session: sessionmaker[Session],
    run_id: int,
    dataset_id: int,
    split: str | None,
    model: str | RewardModel,
    batch_size: int,
    max_length: int,
    head_seed: int,
    on_batch: Callable[[int], None] | None,
    progress: bool,
) -> int:
    with make_session() as session:
        pairs = [
            (p.id, p.prompt, p.chosen, p.rejected, p.category)
            for p in queries.unscored_pairs(session, run_id, dataset_id, split)
        ]
        run = session.get(Run, run_id)
        total, done_before = run.total or len(pairs), (run.total or 0) - len(pairs)
    if not pairs:
        return 0
    rm = model if isinstance(model, RewardModel) else load_reward_model(model, head_seed=head_seed)
    with make_session() as session:
        run = session.get(Run, run_id)
        ckpt = queries.get_or_create_checkpoint(
            session, rm.path, name=str(rm.spec), kind="base" if rm.head_initialized else "rm"
        )
        run.checkpoint_id = ckpt.id
        session.commit()

    tok = rm.tokenizer
    enc = [
        (encode(tok, p, c, max_length), encode(tok, p, r, max_length)) for _, p, c, r, _ in pairs
    ]
    # Longest pairs first: a batch holds pairs of similar length, so padding stays small
    # (and an out-of-memory error, if any, shows up in the first batch).
    order = sorted(range(len(pairs)), key=lambda i: -max(enc[i][0].n_tokens, enc[i][1].n_tokens))
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    done = done_before
    bar = tqdm(
        total=total, initial=done_before, desc="scoring pairs", unit="pair", disable=not progress
    )
    for k, batch in enumerate(batches):
        flat = [enc[i][0] for i in batch] + [enc[i][1] for i in batch]
        scores = score_encoded(rm, flat, batch_size=len(flat), sort_by_length=False)
        rows = []
        for j, i in enumerate(batch):
            sc, sr = float(scores[j]), float(scores[len(batch) + j])
            ec, er = enc[i]
            rows.append(
                {
                    "run_id": run_id,
                    "pair_id": pairs[i][0],
                    "category": pairs[i][4],
                    "score_chosen": sc,
                    "score_rejected": sr,
                    "gap": sc - sr,
                    "tokens_chosen": ec.n_tokens,
                    "tokens_rejected": er.n_tokens,
                    "truncated_chosen": ec.truncated,
                    "truncated_rejected": er.truncated,
                }
            )
        done += len(batch)
        with make_session() as session:
            session.execute(insert(PairScore), rows)
            session.get(Run, run_id).progress = done / max(total, 1)
            session.commit()
        bar.update(len(batch))
        if on_batch is not None:
            on_batch(k)
    bar.close()
    return len(pairs)
