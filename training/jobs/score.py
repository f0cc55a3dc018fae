"""The resumable batch scoring job behind ``preflens score``.

A run is keyed by what it measures: the model's fingerprint (weights, head, tokenizer;
``preflens.fingerprint``), the data's fingerprint (the set of pairs scored), the dataset,
split, limit, max length and head seed. The same command finds the same run; retraining
into the same folder or adding pairs makes a new one. Each batch of pairs is written in
its own transaction with the run's progress and heartbeat, so a crash loses at most one
batch; rows are inserted on-conflict-do-nothing under the unique (run, pair), so a pair
never gets a second row, whoever writes it. Batches hold pairs of similar length and run
in a seeded random order, so the numbers of a running run come from a fair sample.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from tqdm.auto import tqdm

from db import read, runs
from db.lookup import dataset_record
from db.schema import PairScore, PairState
from db.session import writing
from preflens import states
from preflens.fingerprint import model_fingerprint
from training import distributed as dist
from training.configs import ScoreConfig
from training.fetch import resolve_model
from training.jobs import JobResult, record_rm_checkpoint
from training.loading import (
    RewardModel,
    load_reward_model,
    plan_reward_model,
    requested_layout,
)
from training.scoring import (
    encode,
    response_tokens,
    score_encoded,
    score_encoded_states,
    shared_prefix_end,
    shuffled_length_chunks,
)
from training.token_budget import gpu_token_budget

log = logging.getLogger(__name__)

# What --keep-states keeps: a fixed Gaussian random projection (preflens.states).
STATE_SPEC = {"dims": states.DEFAULT_DIMS, "seed": states.PROJECTION_SEED, "kind": "random"}


def default_split(make_session: sessionmaker[Session], dataset: str | int) -> str | None:
    """The split ``preflens score`` scores when none is named: ``test`` when the dataset
    has one (training pairs would inflate the accuracy), else every pair (None)."""
    with make_session() as session:
        ds = dataset_record(session, dataset)
        splits = read.dataset_counts(session, ds.id)["splits"]
    return "test" if "test" in splits else None


def score_from_config(
    make_session: sessionmaker[Session], cfg: ScoreConfig, progress: bool = True
) -> JobResult:
    """The score run ``cfg`` describes (what ``preflens score`` and ``preflens.api.score``
    run): split ``None`` means ``default_split``, ``'all'`` means every pair."""
    if cfg.split is None:
        split = default_split(make_session, cfg.dataset)
    else:
        split = None if cfg.split == "all" else cfg.split
    return run_score_job(
        make_session,
        cfg.model,
        cfg.dataset,
        split,
        batch_size=cfg.batch_size,
        max_length=cfg.max_length,
        head_seed=cfg.head_seed,
        limit=cfg.limit,
        progress=progress,
        keep_states=cfg.keep_states,
    )


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
    rm_layout: str | None = None,
    keep_states: bool = False,
) -> JobResult:
    """Score both responses of every pair in ``dataset``/``split`` with a reward model.

    ``batch_size`` counts pairs: each forward pass scores 2 x batch_size sequences.
    ``limit`` scores only the first N pairs (by id). ``on_batch(k)`` is called after
    batch k (0-based) is committed. Under ``accelerate launch`` each process scores every
    world_size-th batch and writes its own rows; the main process owns the run record.
    ``keep_states`` also stores, from the same forward pass, each pair's projected state
    vectors (``pair_state``; ``preflens.states``) for ``preflens map``.
    """
    dist.init()
    path = model.path if isinstance(model, RewardModel) else resolve_model(model)
    spec = model.spec if isinstance(model, RewardModel) else str(model)
    fingerprint = model_fingerprint(path)
    # Checked before a run exists: a refused checkpoint leaves nothing behind.
    layout = requested_layout(rm_layout)
    how = model.describe() if isinstance(model, RewardModel) else plan_reward_model(model, layout)
    with make_session() as session:
        chosen = read.selection(session, dataset, split, limit)
    dataset_id, total, data_fp = chosen.dataset_id, chosen.total, chosen.data_fingerprint
    key = runs.job_key(
        model=fingerprint,
        data=data_fp,
        dataset=dataset_id,
        split=split,
        max_length=max_length,
        head_seed=head_seed,
        limit=limit,
        **({"rm_layout": layout} if layout != "auto" else {}),
        # Only when asked: runs made without kept states keep their keys.
        **({"keep_states": STATE_SPEC} if keep_states else {}),
    )
    config = {
        "model": spec,
        "model_path": path,
        "batch_size": batch_size,
        "max_length": max_length,
        "head_seed": head_seed,
        "limit": limit,
        "rm_layout": how if isinstance(how, dict) else how.describe(),
        **({"keep_states": STATE_SPEC} if keep_states else {}),
    }
    state = None
    if dist.is_main():
        run, done = runs.claim_run(
            make_session,
            "score",
            key,
            dataset_id=dataset_id,
            split=split,
            total=total,
            config=config,
            parent_run_id=parent_run_id,
            model_fingerprint=fingerprint,
            data_fingerprint=data_fp,
        )
        state = (run.id, done)
    run_id, done = dist.broadcast(state)
    if done:
        return JobResult.load(make_session, run_id, True, 0)
    with make_session() as session:
        pending = [
            (p.id, p.prompt, p.chosen, p.rejected, p.category, p.split)
            for p in read.unscored_pairs(session, run_id, dataset_id, split, limit)
        ]
    dist.barrier()  # every process has read the same pending list before anyone writes
    with runs.failing_marks_run(make_session, run_id):
        rm = _load(model, head_seed, pending, layout)
        if rm is not None and dist.is_main():
            record_rm_checkpoint(make_session, run_id, rm, fingerprint)
        scored = _score_pairs(
            make_session,
            run_id,
            pending,
            total,
            rm,
            batch_size,
            max_length,
            on_batch,
            progress,
            keep_states,
        )
    dist.barrier()
    if dist.is_main():
        runs.finish(make_session, run_id, lambda s: read.score_summary(s, run_id))
    dist.barrier()
    return JobResult.load(make_session, run_id, False, scored)


def _load(
    model: str | RewardModel, head_seed: int, pending: list, layout: str
) -> RewardModel | None:
    if not pending:
        return None
    if isinstance(model, RewardModel):
        return model
    return load_reward_model(model, head_seed=head_seed, layout=layout)


def _rows(
    run_id: int,
    rm: RewardModel,
    pairs: list[tuple],
    enc: list,
    batch: list[int],
    projection: np.ndarray | None = None,
) -> tuple[list, list]:
    """Score one batch (both sides in one forward pass) into pair_score rows, and with a
    ``projection`` the pair_state rows from that same pass."""
    flat = [enc[i][0] for i in batch] + [enc[i][1] for i in batch]
    state_rows: list[dict[str, Any]] = []
    if projection is None:
        scores = score_encoded(rm, flat, batch_size=len(flat), sort_by_length=False)
    else:
        # The prompt's state: the last token both conversations share, read in the chosen
        # side's pass (causal attention: the same state in either side's pass).
        ends = [shared_prefix_end(enc[i][0].ids, enc[i][1].ids) for i in batch]
        scores, last, at_prompt = score_encoded_states(rm, flat, ends + ends, projection)
        state_rows = [
            {
                "run_id": run_id,
                "pair_id": pairs[i][0],
                "prompt": states.pack(at_prompt[j]),
                "chosen": states.pack(last[j]),
                "rejected": states.pack(last[len(batch) + j]),
            }
            for j, i in enumerate(batch)
        ]
    rows: list[dict[str, Any]] = []
    for j, i in enumerate(batch):
        pair_id, _, chosen, rejected, category, split = pairs[i]
        sc, sr = float(scores[j]), float(scores[len(batch) + j])
        ec, er = enc[i]
        rows.append(
            {
                "run_id": run_id,
                "pair_id": pair_id,
                "category": category,
                "split": split,
                "score_chosen": sc,
                "score_rejected": sr,
                "gap": sc - sr,
                "tokens_chosen": ec.n_tokens,
                "tokens_rejected": er.n_tokens,
                "chars_chosen": len(chosen),
                "chars_rejected": len(rejected),
                "response_tokens_chosen": response_tokens(rm.tokenizer, chosen),
                "response_tokens_rejected": response_tokens(rm.tokenizer, rejected),
                "truncated_chosen": ec.truncated,
                "truncated_rejected": er.truncated,
            }
        )
    return rows, state_rows


def _score_pairs(
    make_session: sessionmaker[Session],
    run_id: int,
    pairs: list[tuple],
    total: int,
    rm: RewardModel | None,
    batch_size: int,
    max_length: int,
    on_batch: Callable[[int], None] | None,
    progress: bool,
    keep_states: bool = False,
) -> int:
    if not pairs or rm is None:
        return 0
    tok = rm.tokenizer
    enc = [
        (encode(tok, p[1], p[2], max_length), encode(tok, p[1], p[3], max_length)) for p in pairs
    ]
    lengths = [max(c.n_tokens, r.n_tokens) for c, r in enc]
    budget = None
    if rm.device.type == "cuda":
        # A chunk is as many pairs as the token budget holds, both sides in one pass (so
        # half the budget per side); every process chunks by the main one's budget.
        budget = dist.broadcast(gpu_token_budget(rm.model, rm.device) // 2)
    batches = shuffled_length_chunks(lengths, batch_size, seed=run_id, token_budget=budget)
    mine = batches[dist.rank() :: dist.world_size()]
    bar = tqdm(
        total=total,
        initial=total - len(pairs),
        desc="scoring pairs",
        unit="pair",
        disable=not progress or not dist.is_main(),
    )
    projection = None
    if keep_states:
        projection = states.projection(
            int(rm.model.config.hidden_size), STATE_SPEC["dims"], STATE_SPEC["seed"]
        )
    scored = 0
    for k, batch in enumerate(mine):
        rows, state_rows = _rows(run_id, rm, pairs, enc, batch, projection)
        scored += len(batch)
        with writing(make_session) as session:
            runs.insert_new(session, PairScore.__table__, rows)
            if state_rows:
                runs.insert_new(session, PairState.__table__, state_rows)
            done = session.scalar(
                select(func.count()).select_from(PairScore).where(PairScore.run_id == run_id)
            )
            runs.set_progress(session, run_id, done, total)
        bar.update(len(batch) * dist.world_size())
        if on_batch is not None:
            on_batch(k)
    bar.close()
    return scored
