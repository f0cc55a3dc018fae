"""The resumable counterfactual-probe job behind ``preflens probe``.

For each of the first N pairs of a split, every edit of the suite is applied to the
chosen and to the rejected response, and each text (the originals as edit ``original``)
is scored with the reward model. A row is (run, pair, edit, side), unique; rows go in
with insert-on-conflict-do-nothing, one transaction per batch of pairs with the run's
progress, so a killed run resumes where it stopped and never doubles a row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from tqdm.auto import tqdm

from db import read, runs
from db.read.probes import probe_summary
from db.schema import ProbeScore, Run
from db.session import writing
from preflens.fingerprint import model_fingerprint
from training.fetch import resolve_model
from training.jobs import JobResult
from training.loading import (
    RewardModel,
    load_reward_model,
    plan_reward_model,
    requested_layout,
)
from training.probes import Edit, EditError, apply_all, edits_hash, select_edits
from training.scoring import encode, score_encoded

log = logging.getLogger(__name__)
SIDES = ("chosen", "rejected")
SEQUENCES_PER_PASS = 16


def _done_keys(session: Session, run_id: int) -> set[tuple[int, str, str]]:
    stmt = select(ProbeScore.pair_id, ProbeScore.edit, ProbeScore.side).where(
        ProbeScore.run_id == run_id
    )
    return {tuple(r) for r in session.execute(stmt).all()}


def run_probe_job(
    make_session: sessionmaker[Session],
    model: str | RewardModel,
    dataset: str | int,
    split: str | None = "test",
    *,
    edits: Sequence[str] | None = None,
    edits_file: str | Path | None = None,
    limit: int | None = 50,
    batch_size: int = 4,
    max_length: int = 512,
    head_seed: int = 0,
    on_batch: Callable[[int], None] | None = None,
    progress: bool = True,
) -> JobResult:
    """Score every edit of both sides of the first ``limit`` pairs of ``split``.

    ``batch_size`` counts pairs per transaction: their 2 x (edits + 1) texts each are
    scored 16 at a time, sorted by length. ``on_batch(k)`` is called after batch k
    (0-based) is committed. The run key is the model's and the data's fingerprints, the
    limits and the edits' definitions: the same command resumes it."""
    suite = select_edits(edits, edits_file)
    path = model.path if isinstance(model, RewardModel) else resolve_model(model)
    spec = model.spec if isinstance(model, RewardModel) else str(model)
    fingerprint = model_fingerprint(path)
    layout = requested_layout(None)  # the loader reads the same setting
    how = model.describe() if isinstance(model, RewardModel) else plan_reward_model(model)
    with make_session() as session:
        chosen = read.selection(session, dataset, split, limit)
    dataset_id, total, data_fp = chosen.dataset_id, chosen.total, chosen.data_fingerprint
    key = runs.job_key(
        kind="probe",
        model=fingerprint,
        data=data_fp,
        dataset=dataset_id,
        split=split,
        limit=limit,
        max_length=max_length,
        head_seed=head_seed,
        edits=edits_hash(suite),
        **({"rm_layout": layout} if layout != "auto" else {}),
    )
    config = {
        "model": spec,
        "model_path": path,
        "limit": limit,
        "batch_size": batch_size,
        "max_length": max_length,
        "head_seed": head_seed,
        "edits": [e.as_dict() for e in suite],
        "rm_layout": how if isinstance(how, dict) else how.describe(),
    }
    # claim_run: a second process on the same run waits; a dead owner's run is taken over
    run, done = runs.claim_run(
        make_session, "probe", key, dataset_id=dataset_id, split=split, total=total,
        config=config, model_fingerprint=fingerprint, data_fingerprint=data_fp,
    )  # fmt: skip
    run_id = run.id
    if done:
        return JobResult.load(make_session, run_id, True, 0)
    with make_session() as session:
        pairs = [
            (p.id, p.prompt, p.chosen, p.rejected)
            for p in read.pairs_of(session, dataset_id, split, limit)
        ]
        have = _done_keys(session, run_id)
    n_keys = 2 * (len(suite) + 1)
    pending = [
        p for p in pairs if sum((p[0], e, s) in have for e in _names(suite) for s in SIDES) < n_keys
    ]
    skipped: dict[str, list[int]] = {}  # reason -> pair ids no edit text could be made for
    with runs.failing_marks_run(make_session, run_id):
        done_now = _probe_pairs(
            make_session, run_id, pending, total, suite, model, batch_size, max_length,
            head_seed, fingerprint, on_batch, progress, skipped,
        )  # fmt: skip
    runs.finish(make_session, run_id, lambda s: {**probe_summary(s, run_id), "skipped": skipped})
    return JobResult.load(make_session, run_id, False, done_now)


def _edited_texts(
    suite: Sequence[Edit], pair: tuple, skipped: dict[str, list[int]]
) -> list[tuple] | None:
    """(pair_id, edit, side, prompt, text) for both sides of ``pair``; None (the pair
    recorded under its reason in ``skipped``) when an edit cannot be made for one of its
    texts: a valid pattern that runs past its time limit on this text fails this pair
    only, not the run."""
    pair_id, prompt, chosen, rejected = pair
    items = []
    try:
        for side, response in (("chosen", chosen), ("rejected", rejected)):
            for edit, text in apply_all(suite, response).items():
                items.append((pair_id, edit, side, prompt, text))
    except EditError as exc:
        log.warning("pair %d skipped: %s", pair_id, exc)
        skipped.setdefault(exc.reason, []).append(pair_id)
        return None
    return items


def _names(suite: Sequence[Edit]) -> list[str]:
    return ["original", *(e.name for e in suite)]


def _probe_pairs(
    make_session: sessionmaker[Session],
    run_id: int,
    pairs: list[tuple],
    total: int,
    suite: Sequence[Edit],
    model: str | RewardModel,
    batch_size: int,
    max_length: int,
    head_seed: int,
    fingerprint: str,
    on_batch: Callable[[int], None] | None,
    progress: bool,
    skipped: dict[str, list[int]],
) -> int:
    if not pairs:
        return 0
    rm = model if isinstance(model, RewardModel) else load_reward_model(model, head_seed=head_seed)
    with writing(make_session) as session:
        ckpt = runs.checkpoint_for(
            session,
            rm.path,
            name=str(rm.spec),
            kind="base" if rm.head_initialized else "rm",
            fingerprint=fingerprint,
        )
        session.get(Run, run_id).checkpoint_id = ckpt.id
    bar = tqdm(
        total=total, initial=total - len(pairs), desc="probing pairs", unit="pair",
        disable=not progress,
    )  # fmt: skip
    for k in range(0, len(pairs), batch_size):
        batch = pairs[k : k + batch_size]
        items = []  # (pair_id, edit, side, prompt, text)
        for pair in batch:
            items += _edited_texts(suite, pair, skipped) or []
        encoded = [encode(rm.tokenizer, it[3], it[4], max_length) for it in items]
        # Sorted by length inside, SEQUENCES_PER_PASS at a time: little padding.
        scores = score_encoded(rm, encoded, batch_size=SEQUENCES_PER_PASS) if encoded else []
        rows = [
            {
                "run_id": run_id,
                "pair_id": pair_id,
                "edit": edit,
                "side": side,
                "text": text,
                "score": float(score),
                "n_tokens": enc.n_tokens,
                "truncated": enc.truncated,
            }
            for (pair_id, edit, side, _, text), enc, score in zip(
                items, encoded, scores, strict=True
            )
        ]
        with writing(make_session) as session:
            runs.insert_new(session, ProbeScore.__table__, rows)
            done = session.scalar(
                select(func.count(func.distinct(ProbeScore.pair_id))).where(
                    ProbeScore.run_id == run_id
                )
            )
            runs.set_progress(session, run_id, done, total)
        bar.update(len(batch))
        if on_batch is not None:
            on_batch(k // batch_size)
    bar.close()
    return len(pairs) - sum(len(ids) for ids in skipped.values())
