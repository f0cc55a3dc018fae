"""The resumable batch scoring job behind ``preflens score``.

A run is identified by a key over (model path, dataset, split, max length, head seed):
the same command finds the same run. Each batch of pairs is written in its own
transaction together with the run's progress, so a crash loses at most one batch, and
the unique (run, pair) constraint means a pair can never get a second row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker
from tqdm.auto import tqdm

from db import read, runs
from db.lookup import dataset_record, run_record
from db.schema import PairScore, Run
from db.session import writing
from training import distributed as dist
from training.fetch import resolve_model
from training.jobs import JobResult
from training.loading import RewardModel, load_reward_model
from training.scoring import encode, score_encoded

log = logging.getLogger(__name__)


def run_score_job(
    make_session: sessionmaker[Session],
    model: str | RewardModel,
    dataset: str | int,
    split: str | None = "test",
    *,
    batch_size: int = 8,
    max_length: int = 512,
    head_seed: int = 0,
    limit: int | None = None,
    parent_run_id: int | None = None,
    on_batch: Callable[[int], None] | None = None,
    progress: bool = True,
) -> JobResult:
    """Score both responses of every pair in ``dataset``/``split`` with a reward model.

    ``batch_size`` counts pairs: each forward pass scores 2 x batch_size sequences.
    ``limit`` scores only the first N pairs (by id). ``on_batch(k)`` is called after
    batch k (0-based) is committed. Under ``accelerate launch`` each process scores every
    world_size-th batch and writes its own rows; the main process owns the run record.
    """
    dist.init()
    path = model.path if isinstance(model, RewardModel) else resolve_model(model)
    spec = model.spec if isinstance(model, RewardModel) else str(model)
    with make_session() as session:
        ds = dataset_record(session, dataset)
        dataset_id, total = ds.id, read.count_pairs(session, ds.id, split, limit)
    key = runs.job_key(
        model=path,
        dataset=dataset_id,
        split=split,
        max_length=max_length,
        head_seed=head_seed,
        limit=limit,
    )
    config = {
        "model": spec,
        "model_path": path,
        "batch_size": batch_size,
        "max_length": max_length,
        "head_seed": head_seed,
        "limit": limit,
    }
    state = None
    if dist.is_main():
        with writing(make_session) as session:
            run, done = runs.open_run(
                session,
                "score",
                key,
                dataset_id=dataset_id,
                split=split,
                total=total,
                config=config,
                parent_run_id=parent_run_id,
            )
            state = (run.id, done)
    run_id, done = dist.broadcast(state)
    if done:
        return JobResult(_load_run(make_session, run_id), reused=True, done_now=0)
    with make_session() as session:
        pending = [
            (p.id, p.prompt, p.chosen, p.rejected, p.category)
            for p in read.unscored_pairs(session, run_id, dataset_id, split, limit)
        ]
    dist.barrier()  # every process has read the same pending list before anyone writes
    with runs.failing_marks_run(make_session, run_id):
        scored = _score_pairs(
            make_session,
            run_id,
            pending,
            total,
            model,
            batch_size,
            max_length,
            head_seed,
            on_batch,
            progress,
        )
    dist.barrier()
    if dist.is_main():
        runs.finish(make_session, run_id, lambda s: read.score_summary(s, run_id))
    dist.barrier()
    return JobResult(_load_run(make_session, run_id), reused=False, done_now=scored)


def _load_run(make_session: sessionmaker[Session], run_id: int) -> Run:
    with make_session() as session:
        return run_record(session, run_id)


def _score_pairs(
    make_session: sessionmaker[Session],
    run_id: int,
    pairs: list[tuple],
    total: int,
    model: str | RewardModel,
    batch_size: int,
    max_length: int,
    head_seed: int,
    on_batch: Callable[[int], None] | None,
    progress: bool,
) -> int:
    if not pairs:
        return 0
    rm = model if isinstance(model, RewardModel) else load_reward_model(model, head_seed=head_seed)
    if dist.is_main():
        with writing(make_session) as session:
            ckpt = runs.checkpoint_for(
                session, rm.path, name=str(rm.spec), kind="base" if rm.head_initialized else "rm"
            )
            session.get(Run, run_id).checkpoint_id = ckpt.id

    tok = rm.tokenizer
    enc = [
        (encode(tok, p, c, max_length), encode(tok, p, r, max_length)) for _, p, c, r, _ in pairs
    ]
    # Longest pairs first: a batch holds pairs of similar length, so padding stays small
    # (and an out-of-memory error, if any, shows up in the first batch).
    order = sorted(range(len(pairs)), key=lambda i: -max(enc[i][0].n_tokens, enc[i][1].n_tokens))
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    mine = batches[dist.rank() :: dist.world_size()]
    bar = tqdm(
        total=total,
        initial=total - len(pairs),
        desc="scoring pairs",
        unit="pair",
        disable=not progress or not dist.is_main(),
    )
    scored = 0
    for k, batch in enumerate(mine):
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
        scored += len(batch)
        with writing(make_session) as session:
            session.execute(insert(PairScore), rows)
            done = session.scalar(
                select(func.count()).select_from(PairScore).where(PairScore.run_id == run_id)
            )
            runs.set_progress(session, run_id, done, total)
        bar.update(len(batch) * dist.world_size())
        if on_batch is not None:
            on_batch(k)
    bar.close()
    return scored
