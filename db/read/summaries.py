"""Run summaries computed live from a run's rows, and training metrics per step."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from db.lookup import run_record
from db.read.common import PAIR_SIDES, comparison, pair_score_where, public
from db.read.values import column_array, series
from db.schema import (
    Generation,
    GenerationScore,
    Metric,
    PairScore,
    Run,
)
from preflens.errors import QueryError
from preflens.stats import compare_diffs, policy_stats


def generation_summary(
    session: Session, run_id: int, tie_margin: float | None = None
) -> dict[str, Any]:
    """Policies of a score_generations run, compared on the same prompts.

    Every statistic covers the prompts that every policy of the run answered (``n``;
    answers to other prompts are counted in ``left_out``), so per-policy means and the
    comparisons describe one set of prompts. Per policy: n, mean and population std
    (``std``: the spread of the scores, not an uncertainty) of RM scores, mean characters
    and tokens of the answers, answers cut at the token limit, conversations the RM cut
    at its max length, Pearson and Spearman correlation of length (characters) with
    score. For every pair of policies, A (the later-listed) against B: mean and std of
    A - B, wins (A - B > tie_margin), ties (|A - B| <= tie_margin, or identical answer
    text whatever the scores), losses, ``win_rate`` = (wins + ties/2) / n and
    ``decisive_win_rate`` = wins / (wins + losses). Computed live, so it also describes
    a run in progress; a finished run stores the same numbers."""
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
            GenerationScore.truncated,
        )
        .join(Generation, Generation.id == GenerationScore.generation_id)
        .where(GenerationScore.run_id == run_id)
        .order_by(Generation.pair_id)
    ).all()
    by_policy: dict[str, dict[int, tuple]] = {}
    for policy, pair_id, score, chars, tokens, cut, rm_cut in rows:
        by_policy.setdefault(policy, {})[pair_id] = (score, chars, tokens, bool(cut), bool(rm_cut))
    order = list((run.config or {}).get("policies") or [])
    names = [p for p in order if p in by_policy] + sorted(set(by_policy) - set(order))
    common = sorted(set.intersection(*(set(v) for v in by_policy.values()))) if names else []
    stats = {}
    for name in names:
        cols = np.array([by_policy[name][i] for i in common], dtype=np.float64).reshape(-1, 5)
        stats[name] = {
            **policy_stats(cols[:, 0], cols[:, 1], cols[:, 2], cols[:, 3]),
            "rm_truncated": int(cols[:, 4].sum()),
            "left_out": len(by_policy[name]) - len(common),
        }
    comparisons = []
    for b, a in itertools.combinations(names, 2):
        d = np.array([by_policy[a][i][0] - by_policy[b][i][0] for i in common], dtype=np.float64)
        same = identical_answers(session, run, a, b, common)
        comparisons.append({"a": a, "b": b, **compare_diffs(d, tie_margin, same)})
    return {"n": len(common), "policies": stats, "comparisons": comparisons}


def identical_answers(
    session: Session, run: Run, a: str, b: str, pair_ids: Sequence[int]
) -> np.ndarray:
    """For each of ``pair_ids``: whether policies ``a`` and ``b`` gave the same answer text
    (compared in the database; the texts are not loaded)."""
    _, _, parts = comparison(session, run, a, b)
    ga, gb = parts["ga"], parts["gb"]
    same = set(session.scalars(parts["select"](ga.pair_id).where(ga.text == gb.text)))
    return np.array([i in same for i in pair_ids], dtype=bool)


def score_summary(session: Session, run_id: int) -> dict[str, Any]:
    """Accuracy (share of pairs with chosen > rejected, i.e. gap > 0; ties count as
    wrong), reward mean and population std over both sides (2n values, computed by numpy:
    two-pass, no E[x^2] - E[x]^2 cancellation), chosen / rejected / gap means, number of
    pairs and of truncated responses, and per category (``score_categories``). A finished
    run reads its stored value series."""
    run = run_record(session, run_id)
    s = PairScore
    where = pair_score_where(session, run_id)
    if run.status == "done":
        chosen, rejected, gap = (series(session, run, side)[0] for side in PAIR_SIDES)
    else:  # one scan of the rows of a run still being written
        stmt = select(s.score_chosen, s.score_rejected, s.gap)
        cols = column_array(session, stmt.where(where), 3)
        chosen, rejected, gap = cols[:, 0], cols[:, 1], cols[:, 2]
    n = len(gap)
    if not n:
        return {"pairs": 0}
    both = np.concatenate([chosen, rejected])
    truncated = session.scalar(
        select(
            func.sum(
                case((s.truncated_chosen, 1), else_=0) + case((s.truncated_rejected, 1), else_=0)
            )
        ).where(where)
    )
    return {
        "pairs": int(n),
        "accuracy": int(np.count_nonzero(gap > 0)) / n,
        "reward_mean": float(np.mean(both)),
        "reward_std": float(np.std(both)),
        "chosen_mean": float(np.mean(chosen)),
        "rejected_mean": float(np.mean(rejected)),
        "gap_mean": float(np.mean(gap)),
        "truncated_responses": int(truncated or 0),
        # Stored with the rest when the run finishes: a finished run's page needs no
        # group-by over its rows.
        "categories": score_categories(session, run_id),
        # Exact counts (pairs, correct) per category and per split, for the intervals of
        # the diagnostics (db.read.diagnostics.by_group).
        "counts_by": {c: group_counts(session, run_id, c) for c in ("category", "split")},
    }


def group_counts(session: Session, run_id: int, column: str) -> list[list[Any]]:
    """[value, pairs, correct (gap > 0)] per value of ``column`` (category or split) of a
    score run, values sorted with None last."""
    col = getattr(PairScore, column)
    rows = session.execute(
        select(col, func.count(), func.sum(case((PairScore.gap > 0, 1), else_=0)))
        .where(PairScore.run_id == run_id)
        .group_by(col)
    ).all()
    rows.sort(key=lambda r: (r[0] is None, r[0] or ""))
    return [[name, int(n), int(k or 0)] for name, n, k in rows]


def score_categories(session: Session, run_id: int) -> list[dict[str, Any]]:
    """Per category of a score run: pairs, accuracy (gap > 0) and mean gap."""
    s = PairScore
    rows = session.execute(  # the (run, category, gap) index covers this
        select(s.category, func.count(), func.sum(case((s.gap > 0, 1), else_=0)), func.avg(s.gap))
        .where(s.run_id == run_id)
        .group_by(s.category)
        .order_by(s.category)
    )
    return [
        {"category": cat, "pairs": int(n), "accuracy": (correct or 0) / n, "gap_mean": gap}
        for cat, n, correct, gap in rows
    ]


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
    if "categories" not in out:  # summaries stored before they held the categories
        out["categories"] = score_categories(session, run_id)
    # A run still being written: its numbers cover the pairs scored so far (batches run
    # in a random order of length chunks, so they are a fair sample, but partial).
    out["partial"] = run.status != "done"
    out["total"] = run.total
    return out


def generate_run_summary(session: Session, run_id: int) -> dict[str, Any]:
    """A generation run, per policy: answers, answers cut at the token limit, mean answer
    tokens (generated, without the stop token), characters and seconds."""
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
            # PostgreSQL averages integers as NUMERIC (Decimal): JSON wants floats.
            "mean_tokens": None if tok is None else float(tok),
            "mean_chars": None if chars is None else float(chars),
            "mean_seconds": sec,
        }
        for p, n, cut, tok, chars, sec in rows
    }
    return {"policies": policies}


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
        return {**head, **generate_run_summary(session, run_id)}
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
