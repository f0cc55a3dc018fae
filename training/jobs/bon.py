"""The job behind ``preflens bon``: best-of-N sampling scored by a proxy and a gold RM.

A ``bon`` run holds the answers like a generation run does (``generation`` rows; the
j-th sample of policy NAME is stored as policy ``NAME#j``). Each prompt's N answers are
sampled together with a seed drawn from (seed, pair id, chunk), so a prompt's answers do
not depend on which other prompts were done before an interruption; a prompt's answers
are written in one transaction, so a restart resumes at the first prompt without them.
Each RM's scores form a ``bon_score`` run (parent: the ``bon`` run), resumable like
``score-generations``. The curves (``preflens.bon``) are computed when read.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from tqdm.auto import tqdm

from db import read, runs
from db.lookup import dataset_record
from db.schema import Generation, GenerationScore, Pair, Run
from db.session import writing
from preflens.fingerprint import model_fingerprint
from training.configs import BonConfig
from training.fetch import resolve_model
from training.jobs import JobResult, record_rm_checkpoint, unscored_answers

log = logging.getLogger(__name__)


def sample_name(policy: str, j: int) -> str:
    """The stored policy name of sample ``j``: ``NAME#j``."""
    return f"{policy}#{j}"


def _seed(seed: int, pair_id: int, chunk: int) -> int:
    return int(runs.job_key(seed=seed, pair=pair_id, chunk=chunk)[:8], 16)


def run_bon_job(
    make_session: sessionmaker[Session],
    policy: str,
    model: str,
    cfg: BonConfig,
    progress: bool = True,
) -> JobResult:
    """Sample ``cfg.n`` answers per prompt with ``model``, score them with ``cfg.rm``
    (proxy) and ``cfg.gold_rm`` (gold, optional); returns the ``bon`` run."""
    from training.loading import plan_reward_model, requested_layout

    for rm in (cfg.rm, cfg.gold_rm):
        if rm is not None:  # a refused RM stops the job before a run exists
            plan_reward_model(rm, requested_layout(None))
    path = resolve_model(model)
    split = None if cfg.split == "all" else cfg.split
    with make_session() as session:
        ds = dataset_record(session, cfg.dataset)
        pair_ids = [p.id for p in session.scalars(read.pairs_query(ds.id, split, cfg.limit))]
        if not pair_ids:  # no empty run: the split is named with the splits there are
            raise read.empty_selection(session, ds, split)
        data_fp = read.dataset_hash(session, ds.id, split, cfg.limit)
        dataset_id = ds.id
    sampling = {k: getattr(cfg, k) for k in ("n", "max_new_tokens", "temperature", "top_p", "seed")}
    fp = model_fingerprint(path)
    key = runs.job_key(policy=fp, data=data_fp, dataset=dataset_id, split=split, **sampling)
    total = len(pair_ids) * cfg.n
    run, done = runs.claim_run(
        make_session,
        "bon",
        key,
        dataset_id=dataset_id,
        split=split,
        total=total,
        config={**asdict(cfg), "policy": policy, "model": model, "policy_path": path},
        model_fingerprint=fp,
        data_fingerprint=data_fp,
    )
    made = 0
    if not done:
        with runs.failing_marks_run(make_session, run.id):
            made = _sample(make_session, run.id, policy, model, pair_ids, cfg, progress)
    scoring = {}
    for role, rm in (("proxy", cfg.rm), ("gold", cfg.gold_rm)):
        if rm is not None:
            scoring[role] = _score(make_session, run.id, role, rm, cfg, progress)
    with writing(make_session) as session:
        runs.finish_run(
            session,
            run.id,
            {"prompts": len(pair_ids), "n": cfg.n, "answers": total, "score_runs": scoring},
        )
    return JobResult.load(make_session, run.id, done, made)


def _sample(make_session, run_id, policy, model, pair_ids, cfg, progress) -> int:  # noqa: ANN001
    from training.generation import generate_answers
    from training.loading import load_policy

    with make_session() as session:
        have = set(session.scalars(select(Generation.pair_id).where(Generation.run_id == run_id)))
        prompts = dict(
            session.execute(
                select(Pair.id, Pair.prompt).where(Pair.id.in_(pair_ids)).order_by(Pair.id)
            ).all()
        )
    todo = [p for p in pair_ids if p not in have]
    bar = tqdm(
        total=len(pair_ids) * cfg.n,
        initial=(len(pair_ids) - len(todo)) * cfg.n,
        desc="sampling",
        unit="answer",
        disable=not progress,
    )
    if not todo:
        return 0
    pol = load_policy(model, policy)
    made = 0
    for pid in todo:
        answers: list[Any] = []
        for chunk, start in enumerate(range(0, cfg.n, cfg.batch_size)):
            size = min(cfg.batch_size, cfg.n - start)
            answers += generate_answers(
                pol,
                [prompts[pid]] * size,
                max_new_tokens=cfg.max_new_tokens,
                temperature=cfg.temperature,
                top_p=cfg.top_p,
                seed=_seed(cfg.seed, pid, chunk),
            )
        rows = [
            {
                "run_id": run_id,
                "pair_id": pid,
                "policy": sample_name(policy, j),
                "text": a.text,
                "n_tokens": a.n_tokens,
                "finish_reason": a.finish_reason,
                "seconds": a.seconds,
            }
            for j, a in enumerate(answers)
        ]
        with writing(make_session) as session:
            runs.insert_new(session, Generation.__table__, rows)
            count = session.scalar(
                select(func.count()).select_from(Generation).where(Generation.run_id == run_id)
            )
            runs.set_progress(session, run_id, count, len(pair_ids) * cfg.n)
        made += len(rows)
        bar.update(len(rows))
    bar.close()
    return made


def _score(make_session, bon_run: int, role: str, rm_spec: str, cfg, progress) -> int:  # noqa: ANN001
    """Score every answer of ``bon_run`` with ``rm_spec`` into a ``bon_score`` run."""
    from training.loading import load_reward_model
    from training.scoring import encode, score_encoded

    path = resolve_model(rm_spec)
    fp = model_fingerprint(path)
    with make_session() as session:
        total = session.scalar(
            select(func.count()).select_from(Generation).where(Generation.run_id == bon_run)
        )
        parent = session.get(Run, bon_run)
        where = {"dataset_id": parent.dataset_id, "split": parent.split}
    key = runs.job_key(rm=fp, bon_run=bon_run, max_length=cfg.max_length, role=role)
    run, done = runs.claim_run(
        make_session,
        "bon_score",
        key,
        total=total,
        config={"rm": rm_spec, "rm_path": path, "role": role, "max_length": cfg.max_length},
        parent_run_id=bon_run,
        model_fingerprint=fp,
        **where,
    )
    todo = unscored_answers(make_session, run.id, bon_run)
    if done and not todo:  # answers added after it finished are scored too
        return run.id
    with runs.failing_marks_run(make_session, run.id):
        if todo:
            rm = load_reward_model(rm_spec)
            record_rm_checkpoint(make_session, run.id, rm, fp)
            step = 4 * cfg.score_batch_size
            bar = tqdm(total=len(todo), desc=f"scoring ({role})", disable=not progress)
            for start in range(0, len(todo), step):
                part = todo[start : start + step]
                enc = [encode(rm.tokenizer, p, t, cfg.max_length) for _, p, t in part]
                scores = score_encoded(rm, enc, batch_size=cfg.score_batch_size)
                rows = [
                    {
                        "run_id": run.id,
                        "generation_id": gid,
                        "score": float(s),
                        "n_tokens": e.n_tokens,
                        "truncated": e.truncated,
                    }
                    for (gid, _, _), e, s in zip(part, enc, scores, strict=True)
                ]
                with writing(make_session) as session:
                    runs.insert_new(session, GenerationScore.__table__, rows)
                    runs.set_progress(session, run.id, total - len(todo) + start + len(part), total)
                bar.update(len(part))
            bar.close()
    with writing(make_session) as session:
        runs.finish_run(session, run.id, {"answers": total, "role": role, "rm": rm_spec})
    return run.id
