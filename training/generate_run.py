"""Jobs behind ``preflens generate`` and ``preflens score-generations``.

``generate``: named policies answer every prompt of a split; one row per (pair, policy),
resumable like scoring. ``score-generations``: a reward model scores every stored answer
with the chat template it was trained with, and the run's summary compares every pair
of policies (mean and std, differences, wins / ties / losses, lengths and
length-score correlations).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from sqlalchemy import case, func, insert, select
from sqlalchemy.orm import Session, sessionmaker
from tqdm.auto import tqdm

from db import queries, read
from db.models import Generation, GenerationScore, Pair, Run
from preflens.errors import PrefLensError
from training.jobs import JobResult, failing_marks_run, finish_run, job_key, open_run, set_progress
from training.models import resolve_model

log = logging.getLogger(__name__)


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
    from training.generate import generate_answers, load_policy

    if not policies:
        raise ValueError("name at least one policy (NAME=MODEL)")
    paths = {name: resolve_model(spec) for name, spec in policies.items()}
    with make_session() as session:
        ds = queries.get_dataset(session, dataset)
        stmt = queries.pairs_query(ds.id, split, limit)
        pair_ids = [p.id for p in session.scalars(stmt)]
        dataset_id = ds.id
    sampling = {
        "max_new_tokens": max_new_tokens,
        "temperature": temperature,
        "top_p": top_p,
        "seed": seed,
    }
    key = job_key(policies=paths, dataset=dataset_id, split=split, limit=limit, **sampling)
    total = len(pair_ids) * len(policies)
    config = {
        "policies": dict(policies),
        "policy_paths": paths,
        "limit": limit,
        "batch_size": batch_size,
        **sampling,
    }
    run, done = open_run(
        make_session,
        "generate",
        key,
        dataset_id=dataset_id,
        split=split,
        total=total,
        config=config,
    )
    if done:
        return JobResult(run, reused=True, done_now=0)

    made = 0
    with failing_marks_run(make_session, run.id):
        bar = tqdm(total=total, desc="generating", unit="answer", disable=not progress)
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
                with make_session() as session:
                    session.execute(insert(Generation), rows)
                    count = session.scalar(
                        select(func.count())
                        .select_from(Generation)
                        .where(Generation.run_id == run.id)
                    )
                    set_progress(session, run.id, count, total)
                    session.commit()
                made += len(rows)
                bar.update(len(rows))
                if on_batch is not None:
                    on_batch(batch_no)
                batch_no += 1
            del policy
        bar.close()
    run = finish_run(make_session, run.id, lambda s: generation_summary(s, run.id))
    return JobResult(run, reused=False, done_now=made)


def generation_summary(session: Session, run_id: int) -> dict:
    """Per policy: answers, answers cut at the length limit, mean tokens and seconds."""
    rows = session.execute(
        select(
            Generation.policy,
            func.count(),
            func.sum(case((Generation.finish_reason == "length", 1), else_=0)),
            func.avg(Generation.n_tokens),
            func.avg(Generation.seconds),
        )
        .where(Generation.run_id == run_id)
        .group_by(Generation.policy)
    ).all()
    return {
        "policies": {
            p: {"n": n, "cut_at_limit": int(cut or 0), "mean_tokens": tok, "mean_seconds": sec}
            for p, n, cut, tok, sec in rows
        }
    }


def run_score_generations_job(
    make_session: sessionmaker[Session],
    rm_spec: str,
    generation_run: int,
    *,
    batch_size: int = 8,
    max_length: int = 1024,
    head_seed: int = 0,
    tie_margin: float = 0.0,
    progress: bool = True,
) -> JobResult:
    """Score every answer of a generation run with a reward model and compare policies."""
    from training.models import load_reward_model
    from training.score import encode, score_encoded

    path = resolve_model(rm_spec)
    with make_session() as session:
        gen_run = queries.get_run(session, generation_run)
        if gen_run.kind != "generate":
            raise PrefLensError(
                f"run {generation_run} is a {gen_run.kind} run, not a generation run"
            )
        policy_order = list(gen_run.config.get("policies", {}))
        total = session.scalar(
            select(func.count()).select_from(Generation).where(Generation.run_id == generation_run)
        )
        dataset_id, split = gen_run.dataset_id, gen_run.split
    key = job_key(
        rm=path,
        generation_run=generation_run,
        max_length=max_length,
        head_seed=head_seed,
        tie_margin=tie_margin,
    )
    config = {
        "rm": rm_spec,
        "rm_path": path,
        "max_length": max_length,
        "head_seed": head_seed,
        "tie_margin": tie_margin,
        "policies": policy_order,
    }
    run, done = open_run(
        make_session,
        "score_generations",
        key,
        dataset_id=dataset_id,
        split=split,
        total=total,
        config=config,
        parent_run_id=generation_run,
    )
    if done:
        return JobResult(run, reused=True, done_now=0)

    with failing_marks_run(make_session, run.id):
        with make_session() as session:
            scored = select(GenerationScore.generation_id).where(GenerationScore.run_id == run.id)
            todo = session.execute(
                select(Generation.id, Pair.prompt, Generation.text)
                .join(Pair, Pair.id == Generation.pair_id)
                .where(Generation.run_id == generation_run, Generation.id.not_in(scored))
                .order_by(Generation.id)
            ).all()
        if todo:
            rm = load_reward_model(rm_spec, head_seed=head_seed)
            with make_session() as session:
                ckpt = queries.get_or_create_checkpoint(
                    session, rm.path, name=rm_spec, kind="base" if rm.head_initialized else "rm"
                )
                session.get(Run, run.id).checkpoint_id = ckpt.id
                session.commit()
            enc = [encode(rm.tokenizer, prompt, text, max_length) for _, prompt, text in todo]
            order = sorted(range(len(todo)), key=lambda i: -enc[i].n_tokens)
            bar = tqdm(
                total=total,
                initial=total - len(todo),
                desc="scoring answers",
                unit="answer",
                disable=not progress,
            )
            step = 2 * batch_size
            for start in range(0, len(order), step):
                idx = order[start : start + step]
                scores = score_encoded(
                    rm, [enc[i] for i in idx], batch_size=len(idx), sort_by_length=False
                )
                rows = [
                    {
                        "run_id": run.id,
                        "generation_id": todo[i][0],
                        "score": float(s),
                        "n_tokens": enc[i].n_tokens,
                        "truncated": enc[i].truncated,
                    }
                    for i, s in zip(idx, scores, strict=True)
                ]
                with make_session() as session:
                    session.execute(insert(GenerationScore), rows)
                    set_progress(session, run.id, total - len(todo) + start + len(idx), total)
                    session.commit()
                bar.update(len(idx))
            bar.close()
    run = finish_run(make_session, run.id, lambda s: read.generation_summary(s, run.id, tie_margin))
    return JobResult(run, reused=False, done_now=len(todo))
