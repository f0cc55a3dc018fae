"""Run summaries computed live from a run's rows, and training metrics per step."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from db.lookup import run_record
from db.read.common import public
from db.schema import (
    Generation,
    GenerationScore,
    Metric,
    PairScore,
)
from preflens.errors import QueryError
from preflens.stats import compare_diffs, policy_stats


def generation_summary(
    session: Session, run_id: int, tie_margin: float | None = None
) -> dict[str, Any]:
    """Per policy of a score_generations run: n, mean and (population) std of RM scores,
    mean characters and tokens, answers cut at the token limit, Pearson and Spearman
    correlation of length (characters) with score; and for every pair of policies, A
    (the later-listed) against B on the prompts both answered: mean and std of A - B,
    wins (A - B > tie_margin), ties, losses and win rate (wins / n). Computed live, so
    it also describes a run still in progress; a finished run stores the same numbers."""
    run = run_record(session, run_id)
    if run.kind != "score_generations":
        raise QueryError(f"run {run_id} is a {run.kind} run, not a score_generations run")
    if tie_margin is None:
        tie_margin = float((run.config or {}).get("tie_margin", 0.0))
    rows = session.execute(
        select(
            Generation.policy,
            Generation.pair_id,
            GenerationScore.score,
            func.length(Generation.text),
            Generation.n_tokens,
            Generation.finish_reason == "length",
        )
        .join(Generation, Generation.id == GenerationScore.generation_id)
        .where(GenerationScore.run_id == run_id)
        .order_by(Generation.pair_id)
    ).all()
    by_policy: dict[str, dict[int, tuple]] = {}
    for policy, pair_id, score, chars, tokens, cut in rows:
        by_policy.setdefault(policy, {})[pair_id] = (score, chars, tokens, bool(cut))
    order = list((run.config or {}).get("policies") or [])
    names = [p for p in order if p in by_policy] + sorted(set(by_policy) - set(order))
    stats = {}
    for name in names:
        cols = np.array(list(by_policy[name].values()), dtype=np.float64).reshape(-1, 4)
        stats[name] = policy_stats(cols[:, 0], cols[:, 1], cols[:, 2], cols[:, 3])
    comparisons = []
    for b, a in itertools.combinations(names, 2):
        common = sorted(set(by_policy[a]) & set(by_policy[b]))
        d = np.array([by_policy[a][i][0] - by_policy[b][i][0] for i in common], dtype=np.float64)
        comparisons.append({"a": a, "b": b, **compare_diffs(d, tie_margin)})
    return {"policies": stats, "comparisons": comparisons}


def score_summary(session: Session, run_id: int) -> dict[str, Any]:
    """Accuracy (share of pairs with chosen > rejected), reward mean/std over both sides,
    number of pairs and of truncated responses, computed in SQL."""
    s = PairScore
    row = session.execute(
        select(
            func.count(),
            func.sum(case((s.gap > 0, 1), else_=0)),
            func.sum(s.score_chosen + s.score_rejected),
            func.sum(s.score_chosen * s.score_chosen + s.score_rejected * s.score_rejected),
            func.sum(
                case((s.truncated_chosen, 1), else_=0) + case((s.truncated_rejected, 1), else_=0)
            ),
            func.avg(s.gap),
            func.avg(s.score_chosen),
            func.avg(s.score_rejected),
        ).where(s.run_id == run_id)
    ).one()
    n, correct, total, total_sq, truncated, gap_mean, chosen_mean, rejected_mean = row
    if not n:
        return {"pairs": 0}
    mean = total / (2 * n)
    var = max(total_sq / (2 * n) - mean * mean, 0.0)
    return {
        "pairs": int(n),
        "accuracy": (correct or 0) / n,
        "reward_mean": mean,
        "reward_std": math.sqrt(var),
        "chosen_mean": chosen_mean,
        "rejected_mean": rejected_mean,
        "gap_mean": gap_mean,
        "truncated_responses": int(truncated or 0),
    }


def score_run_summary(session: Session, run_id: int) -> dict[str, Any]:
    """A score run: accuracy, reward mean and std over both sides, chosen / rejected / gap
    means and truncated responses (``score_summary``: what the job stores when
    it finishes, so a finished run's stored summary is used as is), and per category the
    pairs, accuracy and mean gap."""
    run = run_record(session, run_id)
    stored = run.summary or {}
    if run.status == "done" and {"pairs", "accuracy", "reward_std"} <= stored.keys():
        out = dict(stored)
    else:
        out = score_summary(session, run_id)
    s = PairScore
    rows = session.execute(  # the (run, category, gap) index covers this
        select(s.category, func.count(), func.sum(case((s.gap > 0, 1), else_=0)), func.avg(s.gap))
        .where(s.run_id == run_id)
        .group_by(s.category)
        .order_by(s.category)
    )
    out["categories"] = [
        {"category": cat, "pairs": int(n), "accuracy": (correct or 0) / n, "gap_mean": gap}
        for cat, n, correct, gap in rows
    ]
    return out


def run_summary(session: Session, run_id: int, tie_margin: float | None = None) -> dict[str, Any]:
    """One run's summary numbers, computed live from its rows:

    - ``score``: ``score_run_summary``;
    - ``score_generations``: ``generation_summary``;
    - ``generate``: per policy answers, cut at the limit, mean tokens, characters, seconds;
    - ``train_rm`` / ``train_dpo`` and others: per metric name n, last step and value,
      min and max.
    """
    run = run_record(session, run_id)
    head = {"run_id": run.id, "kind": run.kind, "status": run.status, "progress": run.progress}
    if run.kind == "score":
        return {**head, **score_run_summary(session, run_id)}
    if run.kind == "score_generations":
        return {**head, **generation_summary(session, run_id, tie_margin)}
    if run.kind == "generate":
        g = Generation
        rows = session.execute(
            select(
                g.policy,
                func.count(),
                func.sum(case((g.finish_reason == "length", 1), else_=0)),
                func.avg(g.n_tokens),
                func.avg(func.length(g.text)),
                func.avg(g.seconds),
            )
            .where(g.run_id == run_id)
            .group_by(g.policy)
        )
        policies = {
            p: {
                "n": int(n),
                "cut_at_limit": int(cut or 0),
                "mean_tokens": tok,
                "mean_chars": chars,
                "mean_seconds": sec,
            }
            for p, n, cut, tok, chars, sec in rows
        }
        return {**head, "policies": policies}
    last = (
        select(Metric.name, func.max(Metric.step).label("step"))
        .where(Metric.run_id == run_id)
        .group_by(Metric.name)
        .subquery()
    )
    last_values = dict(
        session.execute(
            select(Metric.name, Metric.value)
            .join(
                last,
                and_(Metric.name == last.c.name, Metric.step == last.c.step),
            )
            .where(Metric.run_id == run_id)
        ).all()
    )
    rows = session.execute(
        select(
            Metric.name,
            func.count(),
            func.max(Metric.step),
            func.min(Metric.value),
            func.max(Metric.value),
        )
        .where(Metric.run_id == run_id)
        .group_by(Metric.name)
        .order_by(Metric.name)
    )
    metrics = {
        name: {"n": int(n), "last_step": step, "last": last_values.get(name), "min": lo, "max": hi}
        for name, n, step, lo, hi in rows
    }
    return {**head, "metrics": metrics, "stored": public(run.summary)}


def metrics(
    session: Session, run_ids: Sequence[int], names: Sequence[str] | None = None
) -> dict[str, Any]:
    """Training metrics per step for several runs: ``{"runs": [{"run_id", "kind",
    "series": {name: {"steps": [...], "values": [...]}}}]}``, steps ascending."""
    runs = [run_record(session, rid) for rid in dict.fromkeys(run_ids)]
    stmt = select(Metric.run_id, Metric.name, Metric.step, Metric.value).where(
        Metric.run_id.in_([r.id for r in runs])
    )
    if names:
        stmt = stmt.where(Metric.name.in_(list(names)))
    series: dict[int, dict[str, dict[str, list]]] = {r.id: {} for r in runs}
    for rid, name, step, value in session.execute(stmt.order_by(Metric.name, Metric.step)):
        entry = series[rid].setdefault(name, {"steps": [], "values": []})
        entry["steps"].append(step)
        entry["values"].append(value)
    return {"runs": [{"run_id": r.id, "kind": r.kind, "series": series[r.id]} for r in runs]}
