"""The job behind ``preflens generate``: named policies answer every prompt of a split;
one row per (pair, policy), resumable like scoring."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import asdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from tqdm.auto import tqdm

from db import read, runs
from db.lookup import dataset_record
from db.schema import Generation, Pair
from db.session import writing
from preflens.fingerprint import model_fingerprint
from training.configs import GenerateConfig
from training.fetch import resolve_model
from training.jobs import JobResult

log = logging.getLogger(__name__)


def generate_from_config(
    make_session: sessionmaker[Session],
    policies: Mapping[str, str],
    cfg: GenerateConfig,
    progress: bool = True,
) -> JobResult:
    """The generation run ``cfg`` describes (what ``preflens generate`` and
    ``preflens.api.generate`` run); split ``'all'`` means every pair."""
    options = {k: v for k, v in asdict(cfg).items() if k not in ("dataset", "split")}
    split = None if cfg.split == "all" else cfg.split
    return run_generate_job(
        make_session, policies, cfg.dataset, split, progress=progress, **options
    )


def run_generate_job(
    make_session: sessionmaker[Session],
    policies: Mapping[str, str],
    dataset: str | int,
    split: str | None = "test",
    *,
    max_new_tokens: int = 512,
    temperature: float = 0.7,
    top_p: float = 0.9,
    seed: int = 0,
    batch_size: int = 8,
    limit: int | None = None,
    on_batch: Callable[[int], None] | None = None,
    progress: bool = True,
) -> JobResult:
    """Answer the prompts of ``dataset``/``split`` (the first ``limit`` pairs by id) with
    every policy in ``policies`` (name -> model spec)."""
    from training.generation import generate_answers
    from training.loading import load_policy

    if not policies:
        raise ValueError("name at least one policy (NAME=MODEL)")
    paths = {name: resolve_model(spec) for name, spec in policies.items()}
    with make_session() as session:
        ds = dataset_record(session, dataset)
        stmt = read.pairs_query(ds.id, split, limit)
        pair_ids = [p.id for p in session.scalars(stmt)]
        if not pair_ids:  # no empty run: the split is named with the splits there are
            raise read.empty_selection(session, ds, split)
        dataset_id = ds.id
    sampling = {
        "max_new_tokens": max_new_tokens,
        "temperature": temperature,
        "top_p": top_p,
        "seed": seed,
    }
    fingerprints = {name: model_fingerprint(path) for name, path in paths.items()}
    with make_session() as session:
        data_fp = read.dataset_hash(session, dataset_id, split, limit)
    key = runs.job_key(
        policies=fingerprints,
        data=data_fp,
        dataset=dataset_id,
        split=split,
        limit=limit,
        **sampling,
    )
    total = len(pair_ids) * len(policies)
    config = {
        "policies": dict(policies),
        "policy_paths": paths,
        "limit": limit,
        "batch_size": batch_size,
        **sampling,
    }
    run, done = runs.claim_run(
        make_session,
        "generate",
        key,
        dataset_id=dataset_id,
        split=split,
        total=total,
        config={**config, "policy_fingerprints": fingerprints},
        model_fingerprint=runs.job_key(**fingerprints),
        data_fingerprint=data_fp,
    )
    if done:
        return JobResult(run, reused=True, done_now=0)

    made = 0
    bar = tqdm(total=total, desc="generating", unit="answer", disable=not progress)
    with runs.failing_marks_run(make_session, run.id), bar:
        batch_no = 0
        for name, spec in policies.items():
            with make_session() as session:
                have = set(
                    session.scalars(
                        select(Generation.pair_id).where(
                            Generation.run_id == run.id, Generation.policy == name
                        )
                    )
                )
                todo = [
                    p
                    for p in session.scalars(
                        select(Pair).where(Pair.id.in_(pair_ids)).order_by(Pair.id)
                    )
                    if p.id not in have
                ]
                prompts = {p.id: p.prompt for p in todo}
            bar.update(len(have))
            if not todo:
                continue
            policy = load_policy(spec, name)
            # Prompts of similar length share a batch, so left padding stays small.
            order = sorted(prompts, key=lambda pid: -len(str(prompts[pid])))
            for start in range(0, len(order), batch_size):
                ids = order[start : start + batch_size]
                answers = generate_answers(
                    policy,
                    [prompts[i] for i in ids],
                    seed=seed + ids[0],
                    **{k: v for k, v in sampling.items() if k != "seed"},
                )
                rows = [
                    {
                        "run_id": run.id,
                        "pair_id": pid,
                        "policy": name,
                        "text": a.text,
                        "n_tokens": a.n_tokens,
                        "finish_reason": a.finish_reason,
                        "seconds": a.seconds,
                    }
                    for pid, a in zip(ids, answers, strict=True)
                ]
                with writing(make_session) as session:
                    runs.insert_new(session, Generation.__table__, rows)
                    count = session.scalar(
                        select(func.count())
                        .select_from(Generation)
                        .where(Generation.run_id == run.id)
                    )
                    runs.set_progress(session, run.id, count, total)
                made += len(rows)
                bar.update(len(rows))
                if on_batch is not None:
                    on_batch(batch_no)
                batch_no += 1
            del policy
    run = runs.finish(make_session, run.id, lambda s: read.generate_run_summary(s, run.id))
    return JobResult(run, reused=False, done_now=made)
