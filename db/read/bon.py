"""A best-of-N run read back: its answers' proxy and gold scores and lengths as prompts x N
matrices, and the best-of-k curves of ``preflens.bon`` over them. Only prompts with all
N answers scored by every RM count (a running run shows the prompts done so far)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.lookup import run_record
from db.read.common import PREVIEW_CHARS
from db.schema import Generation, GenerationScore, Pair, Run
from preflens.bon import bon_curves
from preflens.errors import QueryError
from preflens.uncertainty import DEFAULT_B, DEFAULT_SEED

MAX_PICKS = 20


def score_runs(session: Session, run_id: int) -> dict[str, int]:
    """{role: bon_score run id} of a ``bon`` run (``proxy``, and ``gold`` when given),
    as its summary names them or, while it runs, its newest child of each role."""
    run = run_record(session, run_id)
    if run.kind != "bon":
        raise QueryError(f"run {run_id} is a {run.kind} run; best-of-N curves need a bon run")
    named = (run.summary or {}).get("score_runs") or {}
    if named:
        return {role: int(rid) for role, rid in named.items()}
    found: dict[str, int] = {}
    children = session.scalars(
        select(Run).where(Run.parent_run_id == run_id, Run.kind == "bon_score").order_by(Run.id)
    )
    for child in children:
        found[(child.config or {}).get("role", "proxy")] = child.id
    return found


def bon_matrices(session: Session, run_id: int) -> dict[str, Any]:
    """pair ids, generation ids (prompts x N) and the matrices ``proxy``, ``gold`` (or
    None), ``length`` (generated tokens) of the complete prompts of a ``bon`` run."""
    run = run_record(session, run_id)
    n = int((run.config or {}).get("n") or 0)
    roles = score_runs(session, run_id)
    gens = session.execute(
        select(Generation.id, Generation.pair_id, Generation.policy, Generation.n_tokens)
        .where(Generation.run_id == run_id)
        .order_by(Generation.pair_id, Generation.id)
    ).all()
    scores = {
        role: dict(
            session.execute(
                select(GenerationScore.generation_id, GenerationScore.score).where(
                    GenerationScore.run_id == rid
                )
            ).all()
        )
        for role, rid in roles.items()
    }
    by_pair: dict[int, dict[int, tuple[int, int | None]]] = {}
    for gid, pid, policy, tokens in gens:
        j = int(policy.rsplit("#", 1)[1])
        by_pair.setdefault(pid, {})[j] = (gid, tokens)
    pair_ids, gen_ids = [], []
    for pid, samples in by_pair.items():
        row = [samples.get(j, (None, None))[0] for j in range(n)]
        if n and None not in row and all(g in s for s in scores.values() for g in row):
            pair_ids.append(pid)
            gen_ids.append(row)
    tokens = {gid: t for _, s in by_pair.items() for gid, t in s.values()}
    g = np.asarray(gen_ids, dtype=np.int64).reshape(len(gen_ids), n)

    def matrix(values: dict[int, Any] | None) -> np.ndarray | None:
        if values is None or not len(g):
            return None
        return np.vectorize(lambda x: float(values[int(x)] or 0), otypes=[float])(g)

    return {
        "n": n,
        "roles": roles,
        "pair_ids": pair_ids,
        "generation_ids": g,
        "proxy": matrix(scores.get("proxy")),
        "gold": matrix(scores.get("gold")),
        "length": matrix(tokens),
    }


def _side(m: dict[str, Any], i: int, j: int, text: str) -> dict[str, Any]:
    return {
        "sample": j,
        "text": text,
        "proxy": float(m["proxy"][i, j]),
        "gold": None if m["gold"] is None else float(m["gold"][i, j]),
        "tokens": float(m["length"][i, j]),
    }


def _picks(session: Session, m: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    """Per prompt (the first ``limit``): the proxy's best-of-N answer beside sample #0, a
    random draw (samples are independent), with their scores and lengths."""
    out = []
    for i, pid in enumerate(m["pair_ids"][:limit]):
        best = int(np.argmax(m["proxy"][i]))  # the first maximum on a proxy tie
        ids = [int(m["generation_ids"][i, best]), int(m["generation_ids"][i, 0])]
        texts = dict(
            session.execute(
                select(Generation.id, Generation.text).where(Generation.id.in_(ids))
            ).all()
        )
        prompt = session.scalar(select(Pair.prompt_text).where(Pair.id == pid)) or ""
        out.append(
            {
                "pair_id": pid,
                "prompt": prompt[:PREVIEW_CHARS],
                "best": _side(m, i, best, texts[ids[0]]),
                "random": _side(m, i, 0, texts[ids[1]]),
            }
        )
    return out


def bon_summary(
    session: Session,
    run_id: int,
    b: int = DEFAULT_B,
    seed: int = DEFAULT_SEED,
    picks: int = MAX_PICKS,
) -> dict[str, Any]:
    """Best-of-k curves of a ``bon`` run (``preflens.bon.bon_curves``: proxy, gold when a
    gold RM scored it, and length in generated tokens, with bootstrap bands over prompts,
    the analytic KL and the gold peak), its score runs, and the best-of-N pick beside a
    random sample for the first ``picks`` prompts."""
    m = bon_matrices(session, run_id)
    if m["proxy"] is None:
        out = {"prompts": 0, "n": m["n"], "ks": [], "kl": [], "curves": {}, "gold_peak": None}
        out["conventions"] = {}
    else:
        out = bon_curves(m["proxy"], m["gold"], m["length"], b=b, seed=seed)
    run = run_record(session, run_id)
    return {
        "run_id": run_id,
        **out,
        "policy": (run.config or {}).get("policy"),
        "score_runs": m["roles"],
        "picks": [] if m["proxy"] is None else _picks(session, m, picks),
    }
