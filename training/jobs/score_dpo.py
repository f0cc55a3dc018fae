"""The resumable per-pair DPO scoring job behind ``preflens score-dpo``.

For every pair: the summed log-probability of the response tokens of chosen and of
rejected under the policy and the reference, the response token counts, and the
implicit rewards ``beta x (log pi - log ref)`` and their gap. Conversations are built
and tokenized exactly as TRL's ``DPOTrainer`` does (the chat template with the
generation prompt for the prompt, the rest of the templated conversation as the
completion, each tokenized on its own and joined; over ``max_length`` the end is cut),
so the rewards equal the trainer's ``rewards/chosen`` on the same pairs.

Reference-free (``reference=None``, as SimPO and ORPO train): no reference log-probs
are stored (NULL) and the reward is ``beta x mean log-prob`` per response token.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from itertools import takewhile

import numpy as np
import torch
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from tqdm.auto import tqdm
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from db import read, runs
from db.read.probes import dpo_summary
from db.schema import DpoScore, Pair, Run
from db.session import writing
from preflens.fingerprint import model_fingerprint
from training.fetch import resolve_model
from training.jobs import JobResult
from training.loading import Policy, load_policy
from training.scoring import Messages, conversation_text

log = logging.getLogger(__name__)


def encode_completion(
    tokenizer: PreTrainedTokenizerBase, prompt: Messages, response: str
) -> tuple[list[int], list[int]]:
    """(prompt ids, completion ids) as TRL's DPOTrainer builds them: the prompt with the
    generation prompt, the completion the rest of the templated conversation."""
    head = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=False)
    full = conversation_text(tokenizer, prompt, response)
    head = "".join(a for a, _ in takewhile(lambda x: x[0] == x[1], zip(head, full, strict=False)))
    prompt_ids = tokenizer(head, add_special_tokens=False)["input_ids"]
    completion_ids = tokenizer(full[len(head) :], add_special_tokens=False)["input_ids"]
    return prompt_ids, completion_ids


@torch.inference_mode()
def sequence_logps(
    model: PreTrainedModel,
    seqs: Sequence[tuple[list[int], list[int]]],
    pad_id: int,
    max_length: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Summed log-probs of the completion tokens of each (prompt, completion) and the
    number of completion tokens counted, in one forward pass. Over ``max_length`` a
    sequence keeps its start (as TRL truncates)."""
    rows = []
    for p, c in seqs:
        ids, comp = p + c, [0] * len(p) + [1] * len(c)
        if max_length is not None:
            ids, comp = ids[:max_length], comp[:max_length]
        rows.append((ids, comp))
    width = max(len(ids) for ids, _ in rows)
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(rows), width), dtype=torch.long)
    completion = torch.zeros((len(rows), width), dtype=torch.long)
    for i, (ids, comp) in enumerate(rows):
        input_ids[i, : len(ids)] = torch.tensor(ids)
        attention[i, : len(ids)] = 1
        completion[i, : len(ids)] = torch.tensor(comp)
    device = next(model.parameters()).device
    logits = model(input_ids=input_ids.to(device), attention_mask=attention.to(device)).logits
    logits = logits[:, :-1].float()
    targets = input_ids[:, 1:].to(device)
    # log-softmax at the target only: logit - logsumexp (no second vocab-sized tensor)
    token_logps = logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1) - logits.logsumexp(-1)
    mask = completion[:, 1:].to(device).float()
    sums = (token_logps * mask).sum(-1).double().cpu().numpy()
    counts = mask.sum(-1).long().cpu().numpy()
    return sums, counts


def implicit_rewards(
    logp_policy: np.ndarray,
    logp_ref: np.ndarray | None,
    tokens: np.ndarray,
    beta: float,
) -> np.ndarray:
    """beta x (log pi - log ref); without a reference beta x mean log-prob per token."""
    if logp_ref is None:
        return beta * logp_policy / np.maximum(tokens, 1)
    return beta * (logp_policy - logp_ref)


def run_score_dpo_job(
    make_session: sessionmaker[Session],
    policy: str | Policy,
    reference: str | Policy | None,
    dataset: str | int,
    split: str | None = "test",
    *,
    beta: float = 0.1,
    limit: int | None = None,
    batch_size: int = 4,
    max_length: int = 1024,
    on_batch: Callable[[int], None] | None = None,
    progress: bool = True,
) -> JobResult:
    """Store per-pair log-probs and implicit rewards of ``policy`` against ``reference``
    (None: reference-free) for the first ``limit`` pairs of ``split``; resumable."""
    pol_path = policy.path if isinstance(policy, Policy) else resolve_model(policy)
    ref_path = None
    if reference is not None:
        ref_path = reference.path if isinstance(reference, Policy) else resolve_model(reference)
    pol_fp = model_fingerprint(pol_path)
    ref_fp = model_fingerprint(ref_path) if ref_path is not None else None
    with make_session() as session:
        chosen = read.selection(session, dataset, split, limit)
    dataset_id, total, data_fp = chosen.dataset_id, chosen.total, chosen.data_fingerprint
    key = runs.job_key(
        kind="score_dpo",
        policy=pol_fp,
        reference=ref_fp,
        data=data_fp,
        dataset=dataset_id,
        split=split,
        limit=limit,
        beta=beta,
        max_length=max_length,
    )
    config = {
        "policy": policy.spec if isinstance(policy, Policy) else str(policy),
        "reference": None
        if reference is None
        else (reference.spec if isinstance(reference, Policy) else str(reference)),
        "policy_path": pol_path,
        "reference_path": ref_path,
        "reference_free": reference is None,
        "beta": beta,
        "limit": limit,
        "batch_size": batch_size,
        "max_length": max_length,
    }
    run, done = runs.claim_run(
        make_session, "score_dpo", key, dataset_id=dataset_id, split=split, total=total,
        config=config, model_fingerprint=pol_fp, data_fingerprint=data_fp,
    )  # fmt: skip
    run_id = run.id
    if done:
        return JobResult.load(make_session, run_id, True, 0)
    with make_session() as session:
        chosen = read.pairs_query(dataset_id, split, limit).subquery()
        scored = select(DpoScore.pair_id).where(DpoScore.run_id == run_id)
        pending = [
            (p.id, p.prompt, p.chosen, p.rejected, p.category)
            for p in session.scalars(
                select(Pair)
                .join(chosen, chosen.c.id == Pair.id)
                .where(Pair.id.not_in(scored))
                .order_by(Pair.id)
            )
        ]
    with runs.failing_marks_run(make_session, run_id):
        done_now = _score(
            make_session, run_id, pending, total, policy, reference, beta, batch_size,
            max_length, on_batch, progress,
        )  # fmt: skip
    runs.finish(make_session, run_id, lambda s: dpo_summary(s, run_id))
    return JobResult.load(make_session, run_id, False, done_now)


def _score(
    make_session: sessionmaker[Session],
    run_id: int,
    pairs: list[tuple],
    total: int,
    policy: str | Policy,
    reference: str | Policy | None,
    beta: float,
    batch_size: int,
    max_length: int,
    on_batch: Callable[[int], None] | None,
    progress: bool,
) -> int:
    if not pairs:
        return 0
    pol = policy if isinstance(policy, Policy) else load_policy(policy, "policy")
    ref = reference
    if isinstance(reference, str):
        ref = load_policy(reference, "reference", device=str(pol.device))
    with writing(make_session) as session:
        ckpt = runs.checkpoint_for(
            session,
            pol.path,
            name=str(pol.spec),
            kind="policy",
            fingerprint=model_fingerprint(pol.path),
        )
        session.get(Run, run_id).checkpoint_id = ckpt.id
    tok = pol.tokenizer
    pad_id = tok.pad_token_id
    bar = tqdm(
        total=total, initial=total - len(pairs), desc="scoring pairs (DPO)", unit="pair",
        disable=not progress,
    )  # fmt: skip
    for k in range(0, len(pairs), batch_size):
        batch = pairs[k : k + batch_size]
        seqs = [encode_completion(tok, p[1], p[2]) for p in batch]
        seqs += [encode_completion(tok, p[1], p[3]) for p in batch]
        lp, n = sequence_logps(pol.model, seqs, pad_id, max_length)
        lr = sequence_logps(ref.model, seqs, pad_id, max_length)[0] if ref is not None else None
        rewards = implicit_rewards(lp, lr, n, beta)
        m = len(batch)
        rows = []
        for j, p in enumerate(batch):
            rc, rr = float(rewards[j]), float(rewards[m + j])
            rows.append(
                {
                    "run_id": run_id,
                    "pair_id": p[0],
                    "category": p[4],
                    "logp_policy_chosen": float(lp[j]),
                    "logp_policy_rejected": float(lp[m + j]),
                    "logp_ref_chosen": float(lr[j]) if lr is not None else None,
                    "logp_ref_rejected": float(lr[m + j]) if lr is not None else None,
                    "tokens_chosen": int(n[j]),
                    "tokens_rejected": int(n[m + j]),
                    "reward_chosen": rc,
                    "reward_rejected": rr,
                    "gap": rc - rr,
                }
            )
        with writing(make_session) as session:
            runs.insert_new(session, DpoScore.__table__, rows)
            done = session.scalar(
                select(func.count()).select_from(DpoScore).where(DpoScore.run_id == run_id)
            )
            runs.set_progress(session, run_id, done, total)
        bar.update(m)
        if on_batch is not None:
            on_batch(k // batch_size)
    bar.close()
    return len(pairs)
