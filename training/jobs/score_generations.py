"""The job behind ``preflens score-generations``: a reward model scores every stored answer
of a finished generation run with the chat template it was trained with, and the run's
summary compares every pair of policies (mean and std, differences, wins / ties /
losses, lengths and length-score correlations)."""

from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from tqdm.auto import tqdm

from db import read, runs
from db.lookup import run_record
from db.ownership import shown_status
from db.schema import Generation, GenerationScore, GenerationState
from db.session import writing
from preflens import states
from preflens.errors import PrefLensError
from preflens.fingerprint import model_fingerprint
from training.fetch import resolve_model
from training.jobs import JobResult, record_rm_checkpoint, unscored_answers

log = logging.getLogger(__name__)


def run_score_generations_job(
    make_session: sessionmaker[Session],
    rm_spec: str,
    generation_run: int,
    *,
    batch_size: int = 8,
    max_length: int = 512,
    head_seed: int = 0,
    tie_margin: float = 0.0,
    progress: bool = True,
    keep_states: bool = False,
) -> JobResult:
    """Score every answer of a generation run with a reward model and compare policies.
    ``keep_states`` also stores, from the same forward pass, each answer's projected state
    vector (``generation_state``; ``preflens.states``: 64 float16 dims, 128 bytes an
    answer)."""
    from training.jobs.score import STATE_SPEC
    from training.loading import load_reward_model, plan_reward_model, requested_layout
    from training.scoring import (
        encode,
        score_encoded,
        score_encoded_states,
        shuffled_length_chunks,
    )

    path = resolve_model(rm_spec)
    layout = requested_layout(None)
    how = plan_reward_model(rm_spec, layout).describe()  # refused before a run exists
    with make_session() as session:
        gen_run = run_record(session, generation_run)
        if gen_run.kind != "generate":
            raise PrefLensError(
                f"run {generation_run} is a {gen_run.kind} run, not a generation run"
            )
        if gen_run.status != "done":
            # A partial run compares policies on different prompts; refuse it.
            raise PrefLensError(
                f"generation run {generation_run} is {shown_status(gen_run)}, not done; "
                "rerun the same `preflens generate` command to finish it first"
            )
        policy_order = list(gen_run.config.get("policies", {}))
        total = session.scalar(
            select(func.count()).select_from(Generation).where(Generation.run_id == generation_run)
        )
        dataset_id, split = gen_run.dataset_id, gen_run.split
    fingerprint = model_fingerprint(path)
    key = runs.job_key(
        rm=fingerprint,
        generation_run=generation_run,
        max_length=max_length,
        head_seed=head_seed,
        tie_margin=tie_margin,
        **({"rm_layout": layout} if layout != "auto" else {}),
        # Only when asked: runs made without kept states keep their keys.
        **({"keep_states": STATE_SPEC} if keep_states else {}),
    )
    config = {
        "rm": rm_spec,
        "rm_path": path,
        "max_length": max_length,
        "head_seed": head_seed,
        "tie_margin": tie_margin,
        "policies": policy_order,
        "rm_layout": how,
        **({"keep_states": STATE_SPEC} if keep_states else {}),
    }
    run, done = runs.claim_run(
        make_session,
        "score_generations",
        key,
        dataset_id=dataset_id,
        split=split,
        total=total,
        config=config,
        parent_run_id=generation_run,
        model_fingerprint=fingerprint,
        data_fingerprint=gen_run.data_fingerprint,
    )
    if done:
        return JobResult(run, reused=True, done_now=0)

    with runs.failing_marks_run(make_session, run.id):
        todo = unscored_answers(make_session, run.id, generation_run)
        if todo:
            rm = load_reward_model(rm_spec, head_seed=head_seed, layout=layout)
            record_rm_checkpoint(make_session, run.id, rm, fingerprint)
            enc = [encode(rm.tokenizer, prompt, text, max_length) for _, prompt, text in todo]
            # Similar lengths share a pass; passes run in a seeded random order, so a
            # running run's numbers are not those of the longest answers only.
            batches = shuffled_length_chunks([e.n_tokens for e in enc], 2 * batch_size, run.id)
            bar = tqdm(
                total=total,
                initial=total - len(todo),
                desc="scoring answers",
                unit="answer",
                disable=not progress,
            )
            done_before = total - len(todo)
            projection = None
            if keep_states:
                projection = states.projection(
                    int(rm.model.config.hidden_size), STATE_SPEC["dims"], STATE_SPEC["seed"]
                )
            for idx in batches:
                state_rows = []
                if projection is None:
                    scores = score_encoded(
                        rm, [enc[i] for i in idx], batch_size=len(idx), sort_by_length=False
                    )
                else:
                    batch = [enc[i] for i in idx]
                    scores, last, _ = score_encoded_states(rm, batch, [0] * len(batch), projection)
                    state_rows = [
                        {
                            "run_id": run.id,
                            "generation_id": todo[i][0],
                            "state": states.pack(last[j]),
                        }
                        for j, i in enumerate(idx)
                    ]
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
                with writing(make_session) as session:
                    runs.insert_new(session, GenerationScore.__table__, rows)
                    if state_rows:
                        runs.insert_new(session, GenerationState.__table__, state_rows)
                    done_before += len(idx)
                    runs.set_progress(session, run.id, done_before, total)
                bar.update(len(idx))
            bar.close()
    run = runs.finish(
        make_session, run.id, lambda s: read.generation_summary(s, run.id, tie_margin)
    )
    return JobResult(run, reused=False, done_now=len(todo))
