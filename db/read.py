"""Read queries behind the HTTP API and the dashboard, returning plain JSON-able values.

Every function takes a ``Session`` first and never commits. Aggregates run in SQL
(counts, min/max, histogram bins, ranks) or in numpy over numeric columns; no function
loads the texts of a whole run, so they stay fast with a million scored pairs. The API
and the dashboard call these same functions, so their numbers match exactly.

Two kinds of run hold scores:

- ``score`` runs: one ``pair_score`` row per pair (chosen vs rejected, gap = chosen -
  rejected). Sides: ``chosen``, ``rejected``, ``gap``.
- ``score_generations`` runs: one ``generation_score`` row per stored answer. A
  *comparison* is policy A against policy B on the prompts both answered, gap =
  score_A - score_B. Sides: ``score`` (one ``policy``) and ``gap`` (``a`` - ``b``; by
  default the run's first comparison, A the later-listed policy, e.g. dpo vs base).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import heapq
import itertools
import json
import math
from collections.abc import Sequence
from pathlib import PurePath
from typing import Any

import numpy as np
from sqlalchemy import Integer, Select, and_, case, cast, func, literal_column, or_, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, aliased

from db import queries
from db.models import (
    Checkpoint,
    Dataset,
    Generation,
    GenerationScore,
    Metric,
    Pair,
    PairScore,
    RejectedRow,
    Run,
)
from preflens.errors import NotFoundError, PrefLensError

PAIR_SIDES = ("chosen", "rejected", "gap")
GENERATION_SIDES = ("score", "gap")
CASE_SORTS = ("gap_desc", "gap_asc", "abs_gap")
PREVIEW_CHARS = 200
MAX_SEARCH_TERMS = 8
SCAN_MIN_ROWS = 10_000  # runs larger than this (and most of the table) are read by a scan


class QueryError(PrefLensError):
    """The parameters of a read query do not fit the data (HTTP 422)."""


# ------------------------------------------------------------------ datasets and runs
def public(value: Any) -> Any:
    """``value`` with every absolute server path cut to its last component (a run's
    config and summary name checkpoints and files by path; clients get the name)."""
    if isinstance(value, str):
        return PurePath(value).name if value.startswith("/") and len(value) > 1 else value
    if isinstance(value, dict):
        return {k: public(v) for k, v in value.items()}
    if isinstance(value, list):
        return [public(v) for v in value]
    return value


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _dataset_dict(ds: Dataset, splits: dict, categories: dict, reasons: dict) -> dict[str, Any]:
    return {
        "id": ds.id,
        "name": ds.name,
        "format": ds.format,
        "source": public(ds.source),
        "created_at": _iso(ds.created_at),
        "pairs": sum(splits.values()),
        "splits": splits,
        "categories": categories,
        "rejected": sum(reasons.values()),
        "reasons": reasons,
    }


def _grouped(session: Session, stmt: Select) -> dict[int, dict[str, int]]:
    out: dict[int, dict[str, int]] = {}
    for ds_id, key, n in session.execute(stmt):
        out.setdefault(ds_id, {})[key if key is not None else "(none)"] = int(n)
    return out


def list_datasets(session: Session) -> list[dict[str, Any]]:
    """Every dataset with pairs per split and per category, rejected rows per reason."""
    splits = _grouped(
        session,
        select(Pair.dataset_id, Pair.split, func.count()).group_by(Pair.dataset_id, Pair.split),
    )
    cats = _grouped(
        session,
        select(Pair.dataset_id, Pair.category, func.count()).group_by(
            Pair.dataset_id, Pair.category
        ),
    )
    reasons = _grouped(
        session,
        select(RejectedRow.dataset_id, RejectedRow.reason, func.count()).group_by(
            RejectedRow.dataset_id, RejectedRow.reason
        ),
    )
    return [
        _dataset_dict(ds, splits.get(ds.id, {}), cats.get(ds.id, {}), reasons.get(ds.id, {}))
        for ds in session.scalars(select(Dataset).order_by(Dataset.id))
    ]


def get_dataset(session: Session, name_or_id: str | int, examples: int = 20) -> dict[str, Any]:
    """One dataset as in ``list_datasets`` plus its first ``examples`` rejected rows."""
    ds = queries.get_dataset(session, name_or_id)
    where = Pair.dataset_id == ds.id
    splits = dict(
        session.execute(select(Pair.split, func.count()).where(where).group_by(Pair.split)).all()
    )
    cats = {
        (c if c is not None else "(none)"): n
        for c, n in session.execute(
            select(Pair.category, func.count()).where(where).group_by(Pair.category)
        )
    }
    counts = queries.dataset_counts(session, ds.id)
    out = _dataset_dict(ds, splits, cats, counts["reasons"])
    rows = session.execute(
        select(RejectedRow.source_row, RejectedRow.reason, func.substr(RejectedRow.raw, 1, 300))
        .where(RejectedRow.dataset_id == ds.id)
        .order_by(RejectedRow.source_row)
        .limit(examples)
    )
    out["rejected_examples"] = [{"row": r, "reason": why, "raw": raw} for r, why, raw in rows]
    return out


def run_dict(run: Run) -> dict[str, Any]:
    """A run's bookkeeping fields; server paths are cut to their last component."""
    config = public(run.config or {})
    return {
        "id": run.id,
        "kind": run.kind,
        "status": run.status,
        "progress": run.progress,
        "total": run.total,
        "dataset": run.dataset.name if run.dataset else None,
        "dataset_id": run.dataset_id,
        "split": run.split,
        "model": public(run.checkpoint.name)
        if run.checkpoint
        else config.get("model") or config.get("rm"),
        "parent_run_id": run.parent_run_id,
        "config": config,
        "summary": public(run.summary),
        "error": run.error,
        "created_at": _iso(run.created_at),
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
    }


def list_runs(
    session: Session,
    kind: str | None = None,
    status: str | None = None,
    dataset: str | int | None = None,
) -> list[dict[str, Any]]:
    """Runs, oldest first, optionally of one kind, status or dataset."""
    stmt = select(Run).order_by(Run.id)
    if kind:
        stmt = stmt.where(Run.kind == kind)
    if status:
        stmt = stmt.where(Run.status == status)
    if dataset is not None:
        stmt = stmt.where(Run.dataset_id == queries.get_dataset(session, dataset).id)
    return [run_dict(r) for r in session.scalars(stmt)]


def get_run(session: Session, run_id: int) -> dict[str, Any]:
    """One run (``NotFoundError`` when there is none)."""
    return run_dict(queries.get_run(session, run_id))


def _scored_run(session: Session, run_id: int) -> Run:
    run = queries.get_run(session, run_id)
    if run.kind not in ("score", "score_generations"):
        raise QueryError(
            f"run {run_id} is a {run.kind} run; scores live in score and score_generations runs"
        )
    return run


# ------------------------------------------------------------------ generation comparisons
def run_policies(session: Session, run: Run) -> list[str]:
    """Policies of a score_generations run, in the order the generation job listed them."""
    present = set(
        session.scalars(
            select(Generation.policy)
            .join(GenerationScore, GenerationScore.generation_id == Generation.id)
            .where(GenerationScore.run_id == run.id)
            .distinct()
        )
    )
    order = list((run.config or {}).get("policies") or [])
    return [p for p in order if p in present] + sorted(present - set(order))


def default_comparison(session: Session, run: Run) -> tuple[str, str]:
    """The run's first comparison (a, b): from its summary, else A = the later-listed policy."""
    comparisons = (run.summary or {}).get("comparisons") or []
    if comparisons:
        return comparisons[0]["a"], comparisons[0]["b"]
    names = run_policies(session, run)
    if len(names) < 2:
        raise QueryError(f"run {run.id} has answers of {len(names)} policy; comparing needs two")
    return names[1], names[0]


def _comparison(
    session: Session, run: Run, a: str | None, b: str | None
) -> tuple[str, str, dict[str, Any]]:
    """Resolve (a, b) and build the A-vs-B join: one row per prompt both policies answered."""
    if (a is None) != (b is None):
        raise QueryError("name both policies, a= and b=, or neither (the run's first comparison)")
    if a is None:
        a, b = default_comparison(session, run)
    known = run_policies(session, run)
    for name in (a, b):
        if name not in known:
            raise QueryError(f"run {run.id} has no answers from policy {name!r} (has: {known})")
    if a == b:
        raise QueryError("a and b must name two different policies")
    ga, gb = aliased(Generation, name="ga"), aliased(Generation, name="gb")
    sa, sb = aliased(GenerationScore, name="sa"), aliased(GenerationScore, name="sb")
    parts = {"ga": ga, "gb": gb, "sa": sa, "sb": sb, "gap": (sa.score - sb.score)}

    def base(*columns: Any) -> Select:
        return (
            select(*columns)
            .select_from(sa)
            .join(ga, ga.id == sa.generation_id)
            .join(gb, and_(gb.run_id == ga.run_id, gb.pair_id == ga.pair_id, gb.policy == b))
            .join(sb, and_(sb.generation_id == gb.id, sb.run_id == sa.run_id))
            .where(sa.run_id == run.id, ga.policy == a)
        )

    parts["select"] = base
    return a, b, parts


def _pair_score_rows(session: Session, run_id: int) -> Any:
    """The WHERE clause for one run's pair_score rows when reading columns no index
    covers (the scores of one side). For a run that holds most of the table it reads
    ``run_id + 0 = ?``: SQLite then scans the table in storage order instead of visiting
    each row through the (run, gap) index, one random lookup per row (many times slower
    at a million rows)."""
    n = session.scalar(select(func.count()).where(PairScore.run_id == run_id)) or 0
    top = session.scalar(select(func.max(PairScore.id))) or 0
    if n > SCAN_MIN_ROWS and 3 * n > top:
        return (PairScore.run_id + 0) == run_id
    return PairScore.run_id == run_id


def _series(
    session: Session,
    run: Run,
    side: str,
    policy: str | None = None,
    a: str | None = None,
    b: str | None = None,
) -> tuple[Select, dict[str, Any]]:
    """A SELECT of one column ``x`` (the asked values of the run) and what it describes."""
    if run.kind == "score":
        if side not in PAIR_SIDES:
            raise QueryError(f"side {side!r}: a score run has sides {', '.join(PAIR_SIDES)}")
        if side == "gap":  # the (run, gap) index covers it
            return select(PairScore.gap.label("x")).where(PairScore.run_id == run.id), {
                "side": side
            }
        col = PairScore.score_chosen if side == "chosen" else PairScore.score_rejected
        return select(col.label("x")).where(_pair_score_rows(session, run.id)), {"side": side}
    if side not in GENERATION_SIDES:
        raise QueryError(
            f"side {side!r}: a score_generations run has sides {', '.join(GENERATION_SIDES)}"
        )
    if side == "score":
        known = run_policies(session, run)
        if policy not in known:
            raise QueryError(f"side=score needs policy= one of {known}")
        stmt = (
            select(GenerationScore.score.label("x"))
            .join(Generation, Generation.id == GenerationScore.generation_id)
            .where(GenerationScore.run_id == run.id, Generation.policy == policy)
        )
        return stmt, {"side": side, "policy": policy}
    a, b, parts = _comparison(session, run, a, b)
    return parts["select"](parts["gap"].label("x")), {"side": side, "a": a, "b": b}


# ------------------------------------------------------------------ distributions
def histogram(
    session: Session,
    run_id: int,
    side: str = "gap",
    bins: int = 30,
    lo: float | None = None,
    hi: float | None = None,
    *,
    policy: str | None = None,
    a: str | None = None,
    b: str | None = None,
) -> dict[str, Any]:
    """Counts of a run's values in ``bins`` equal bins over [lo, hi] (default: min..max).

    Bins are half-open except the last, which includes ``hi`` (as ``numpy.histogram``);
    values outside the range are counted in ``below`` / ``above``, not in a bin.
    """
    if bins < 1:
        raise QueryError("bins must be at least 1")
    run = _scored_run(session, run_id)
    series, described = _series(session, run, side, policy, a, b)
    x = series.subquery().c.x
    if lo is None or hi is None:
        vmin, vmax = session.execute(select(func.min(x), func.max(x))).one()
        lo = (vmin if vmin is not None else 0.0) if lo is None else lo
        hi = (vmax if vmax is not None else 1.0) if hi is None else hi
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi < lo:
        raise QueryError(f"range [{lo}, {hi}] is empty or not finite")
    if hi == lo:
        lo, hi = lo - 0.5, hi + 0.5
    width = (hi - lo) / bins
    if session.get_bind().dialect.name == "sqlite":
        inside = cast((x - lo) / width, Integer)  # x >= lo, so truncation is floor
    else:
        inside = cast(func.floor((x - lo) / width), Integer)
    # One pass: -1 below the range, -2 above it, else the bin (the last one closed).
    index = case((x < lo, -1), (x > hi, -2), (x == hi, bins - 1), else_=inside)
    counts, below, above = [0] * bins, 0, 0
    for i, n in session.execute(select(index, func.count()).group_by(index)):
        if i == -1:
            below = int(n)
        elif i == -2:
            above = int(n)
        elif i is not None:  # rounding can put a value just under hi at index `bins`
            counts[min(max(int(i), 0), bins - 1)] += int(n)
    return {
        "run_id": run_id,
        **described,
        "bins": bins,
        "range": [lo, hi],
        "edges": [lo + i * width for i in range(bins)] + [hi],
        "counts": counts,
        "n": sum(counts),
        "below": below,
        "above": above,
    }


def cdf(
    session: Session,
    run_id: int,
    side: str = "gap",
    points: int = 200,
    *,
    policy: str | None = None,
    a: str | None = None,
    b: str | None = None,
) -> dict[str, Any]:
    """Points (x, p) of the empirical CDF: p = share of values <= x, at up to ``points``
    ranks spread evenly from the smallest to the largest value (exact when n <= points)."""
    run = _scored_run(session, run_id)
    series, described = _series(session, run, side, policy, a, b)
    sub = series.subquery()
    n = session.scalar(select(func.count()).select_from(sub)) or 0
    if n == 0:
        return {"run_id": run_id, **described, "n": 0, "x": [], "p": []}
    ranks = sorted({int(round(r)) for r in np.linspace(1, n, min(max(points, 2), n))})
    ranked = select(sub.c.x, func.row_number().over(order_by=sub.c.x).label("rn")).subquery()
    rows = session.execute(
        select(ranked.c.rn, ranked.c.x).where(ranked.c.rn.in_(ranks)).order_by(ranked.c.rn)
    ).all()
    return {
        "run_id": run_id,
        **described,
        "n": n,
        "x": [float(v) for _, v in rows],
        "p": [int(r) / n for r, _ in rows],
    }


def score_percentile(
    session: Session, run_id: int, score: float, policy: str | None = None
) -> float | None:
    """Percentile (0-100) of ``score`` among a run's scores, ties counting half: both sides
    of a score run; every answer (or one ``policy``'s) of a score_generations run."""
    run = _scored_run(session, run_id)
    if run.kind == "score":
        s = PairScore
        below, equal, n = session.execute(
            select(
                func.sum(case((s.score_chosen < score, 1), else_=0))
                + func.sum(case((s.score_rejected < score, 1), else_=0)),
                func.sum(case((s.score_chosen == score, 1), else_=0))
                + func.sum(case((s.score_rejected == score, 1), else_=0)),
                2 * func.count(),
            ).where(_pair_score_rows(session, run_id))
        ).one()
    else:
        g = GenerationScore
        stmt = select(
            func.sum(case((g.score < score, 1), else_=0)),
            func.sum(case((g.score == score, 1), else_=0)),
            func.count(),
        ).where(g.run_id == run_id)
        if policy is not None:
            stmt = stmt.join(Generation, Generation.id == g.generation_id).where(
                Generation.policy == policy
            )
        below, equal, n = session.execute(stmt).one()
    if not n:
        return None
    return 100.0 * ((below or 0) + 0.5 * (equal or 0)) / n


# ------------------------------------------------------------------ summaries
def _ranks(x: np.ndarray) -> np.ndarray:
    """Ranks from 1, ties sharing their average rank (for Spearman's rho)."""
    order = np.argsort(x, kind="mergesort")
    _, first, counts = np.unique(x[order], return_index=True, return_counts=True)
    ranks = np.empty(len(x), dtype=np.float64)
    ranks[order] = np.repeat(first + (counts - 1) / 2 + 1, counts)
    return ranks


def _pearson(x: np.ndarray, y: np.ndarray) -> float | None:
    if len(x) < 2 or x.std() == 0 or y.std() == 0:
        return None
    return float(np.corrcoef(x, y)[0, 1])


def _policy_stats(scores: np.ndarray, chars: np.ndarray, tokens: np.ndarray, cut: np.ndarray):
    if len(scores) == 0:
        return {"n": 0}
    return {
        "n": int(len(scores)),
        "mean": float(scores.mean()),
        "std": float(scores.std()),
        "mean_chars": float(chars.mean()),
        "mean_tokens": float(tokens.mean()),
        "cut_at_limit": int(cut.sum()),
        "pearson_length_score": _pearson(chars, scores),
        "spearman_length_score": _pearson(_ranks(chars), _ranks(scores))
        if len(scores) >= 2
        else None,
    }


def _compare(d: np.ndarray, tie_margin: float) -> dict[str, Any]:
    n = len(d)
    wins, losses = int(np.sum(d > tie_margin)), int(np.sum(d < -tie_margin))
    return {
        "n": n,
        "mean_diff": float(d.mean()) if n else None,
        "std_diff": float(d.std()) if n else None,
        "wins": wins,
        "ties": n - wins - losses,
        "losses": losses,
        "win_rate": wins / n if n else None,
        "tie_margin": tie_margin,
    }


def generation_summary(
    session: Session, run_id: int, tie_margin: float | None = None
) -> dict[str, Any]:
    """Per policy of a score_generations run: n, mean and (population) std of RM scores,
    mean characters and tokens, answers cut at the token limit, Pearson and Spearman
    correlation of length (characters) with score; and for every pair of policies, A
    (the later-listed) against B on the prompts both answered: mean and std of A - B,
    wins (A - B > tie_margin), ties, losses and win rate (wins / n). Computed live, so
    it also describes a run still in progress; a finished run stores the same numbers."""
    run = queries.get_run(session, run_id)
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
        stats[name] = _policy_stats(cols[:, 0], cols[:, 1], cols[:, 2], cols[:, 3])
    comparisons = []
    for b, a in itertools.combinations(names, 2):
        common = sorted(set(by_policy[a]) & set(by_policy[b]))
        d = np.array([by_policy[a][i][0] - by_policy[b][i][0] for i in common], dtype=np.float64)
        comparisons.append({"a": a, "b": b, **_compare(d, tie_margin)})
    return {"policies": stats, "comparisons": comparisons}


def score_run_summary(session: Session, run_id: int) -> dict[str, Any]:
    """A score run: accuracy, reward mean and std over both sides, chosen / rejected / gap
    means and truncated responses (``db.queries.score_summary``: what the job stores when
    it finishes, so a finished run's stored summary is used as is), and per category the
    pairs, accuracy and mean gap."""
    run = queries.get_run(session, run_id)
    stored = run.summary or {}
    if run.status == "done" and {"pairs", "accuracy", "reward_std"} <= stored.keys():
        out = dict(stored)
    else:
        out = queries.score_summary(session, run_id)
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
    run = queries.get_run(session, run_id)
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
    runs = [queries.get_run(session, rid) for rid in dict.fromkeys(run_ids)]
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


def generation_scatter(
    session: Session, run_id: int, a: str | None = None, b: str | None = None
) -> dict[str, Any]:
    """Per prompt both policies answered: score_A, score_B, tokens, characters and finish
    reasons of both answers, and the pair's category (texts are not loaded)."""
    run = _scored_run(session, run_id)
    if run.kind != "score_generations":
        raise QueryError(f"run {run_id} is a {run.kind} run; the scatter needs score_generations")
    a, b, p = _comparison(session, run, a, b)
    ga, gb, sa, sb = p["ga"], p["gb"], p["sa"], p["sb"]
    stmt = (
        p["select"](
            ga.pair_id,
            Pair.category,
            sa.score,
            sb.score,
            ga.n_tokens,
            gb.n_tokens,
            func.length(ga.text),
            func.length(gb.text),
            ga.finish_reason,
            gb.finish_reason,
        )
        .join(Pair, Pair.id == ga.pair_id)
        .order_by(ga.pair_id)
    )
    keys = ("pair_id", "category", "score_a", "score_b", "tokens_a", "tokens_b")
    keys += ("chars_a", "chars_b", "finish_a", "finish_b")
    points = [dict(zip(keys, row, strict=True)) for row in session.execute(stmt)]
    return {"run_id": run_id, "a": a, "b": b, "n": len(points), "points": points}


# ------------------------------------------------------------------ cases
def _search_terms(q: str | None) -> list[str]:
    terms = (q or "").split()
    if len(terms) > MAX_SEARCH_TERMS:
        raise QueryError(f"q: at most {MAX_SEARCH_TERMS} search terms")
    return terms


def _has_fts(session: Session) -> bool:
    if session.get_bind().dialect.name != "sqlite":
        return False
    found = session.execute(
        text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'pair_fts'")
    ).first()
    return found is not None


def _like_all(terms: list[str], columns: Sequence[Any]) -> Any:
    """Every term appears (case-insensitively) in at least one of ``columns``."""
    clauses = []
    for term in terms:
        pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        clauses.append(or_(*(col.ilike(pattern, escape="\\") for col in columns)))
    return and_(*clauses)


def _matching_pairs(session: Session, terms: list[str]) -> Select:
    """Ids of pairs whose prompt or responses hold every term: an FTS5 whole-word match
    on SQLite (each term quoted as a phrase, so user text is never query syntax), else
    LIKE."""
    if not _has_fts(session):
        return select(Pair.id).where(
            _like_all(terms, (Pair.prompt_text, Pair.chosen, Pair.rejected))
        )
    match = " ".join('"' + t.replace('"', '""') + '"' for t in terms)
    fts = select(literal_column("rowid")).select_from(text("pair_fts"))
    return fts.where(text("pair_fts MATCH :fts_query").bindparams(fts_query=match))


def _encode_cursor(payload: dict[str, Any]) -> str:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, fingerprint: str) -> tuple[float, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
        key, pair_id = float(payload["k"]), int(payload["id"])
        same = payload["f"] == fingerprint
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise QueryError("cursor is not one this API returned; start without cursor") from exc
    if not same:
        raise QueryError("cursor belongs to another query (run, filters or sort changed)")
    return key, pair_id


def _keyset_page(
    session: Session,
    stmt: Select,
    gap: Any,
    pair_id: Any,
    sort: str,
    after: tuple[float, int] | None,
    limit: int,
    walk_index: bool,
) -> list[Any]:
    """Up to ``limit + 1`` rows of ``stmt`` in ``sort`` order after the cursor ``after``.

    ``gap_desc`` / ``gap_asc`` walk the (run, gap) index; ``abs_gap`` walks gaps >= 0
    upward and gaps < 0 downward and merges the two by (|gap|, pair id), so no sort over
    the whole run is needed. ``walk_index=False`` (text search) orders by ``gap + 0``,
    which lets SQLite start from the few matching pairs instead of walking every gap.
    """
    order = gap if walk_index else gap + 0
    k, last = after if after else (None, None)

    def fetch(where: list, by: list) -> list:
        return session.execute(stmt.where(*where).order_by(*by).limit(limit + 1)).all()

    if sort == "gap_desc":
        where = [or_(gap < k, and_(gap == k, pair_id < last))] if after else []
        return fetch(where, [order.desc(), pair_id.desc()])
    if sort == "gap_asc":
        where = [or_(gap > k, and_(gap == k, pair_id > last))] if after else []
        return fetch(where, [order.asc(), pair_id.asc()])
    up = [gap >= 0] + ([or_(gap > k, and_(gap == k, pair_id > last))] if after else [])
    down = [gap < 0] + ([or_(gap < -k, and_(gap == -k, pair_id > last))] if after else [])
    rows = heapq.merge(
        fetch(up, [order.asc(), pair_id.asc()]),
        fetch(down, [order.desc(), pair_id.asc()]),
        key=lambda r: (abs(r.gap), r.pair_id),
    )
    return list(itertools.islice(rows, limit + 1))


def _pair_previews(session: Session, pair_ids: list[int]) -> dict[int, Any]:
    rows = session.execute(
        select(
            Pair.id,
            Pair.split,
            Pair.category,
            func.substr(Pair.prompt_text, 1, PREVIEW_CHARS),
            func.substr(Pair.chosen, 1, PREVIEW_CHARS),
            func.substr(Pair.rejected, 1, PREVIEW_CHARS),
        ).where(Pair.id.in_(pair_ids))
    )
    return {row[0]: row for row in rows}


def search_cases(
    session: Session,
    run_id: int,
    *,
    min_gap: float | None = None,
    max_gap: float | None = None,
    category: str | None = None,
    split: str | None = None,
    q: str | None = None,
    sort: str = "gap_desc",
    limit: int = 50,
    cursor: str | None = None,
    a: str | None = None,
    b: str | None = None,
) -> dict[str, Any]:
    """One page of a run's cases whose gap lies in [min_gap, max_gap].

    A score run's cases are its pairs (gap = chosen - rejected); a score_generations
    run's cases are the prompts both policies ``a`` and ``b`` answered (gap = A - B).
    ``sort``: ``gap_desc``, ``gap_asc`` or ``abs_gap`` (closest to a tie first); ties of
    the key are ordered by pair id (descending for ``gap_desc``, else ascending). ``q``:
    every word must occur in the prompt or either response (whole words through the FTS5
    index on SQLite, substrings elsewhere). Pagination is keyset on (key, pair id):
    ``next_cursor`` resumes right after the last item, so rows added meanwhile never
    shift a page (no repeats, no gaps); it is None on the last page. Items carry
    200-character previews; ``get_case`` returns a case in full.
    """
    if sort not in CASE_SORTS:
        raise QueryError(f"sort {sort!r}: expected one of {', '.join(CASE_SORTS)}")
    if limit < 1:
        raise QueryError("limit must be at least 1")
    if min_gap is not None and max_gap is not None and min_gap > max_gap:
        raise QueryError(f"min_gap {min_gap} is above max_gap {max_gap}")
    run = _scored_run(session, run_id)
    terms = _search_terms(q)
    if run.kind == "score":
        s = PairScore
        gap, pair_id = s.gap, s.pair_id
        stmt = select(
            s.pair_id.label("pair_id"),
            s.score_chosen,
            s.score_rejected,
            s.gap.label("gap"),
            s.tokens_chosen,
            s.tokens_rejected,
            s.truncated_chosen,
            s.truncated_rejected,
        ).where(s.run_id == run_id)
        if category is not None:
            stmt = stmt.where(s.category == category)
        if split is not None:
            stmt = stmt.join(Pair, Pair.id == s.pair_id).where(Pair.split == split)
        if terms:
            stmt = stmt.where(s.pair_id.in_(_matching_pairs(session, terms)))
    else:
        a, b, p = _comparison(session, run, a, b)
        ga, gb, sa, sb, gap = p["ga"], p["gb"], p["sa"], p["sb"], p["gap"]
        pair_id = ga.pair_id
        stmt = p["select"](
            ga.pair_id.label("pair_id"),
            sa.score.label("score_a"),
            sb.score.label("score_b"),
            gap.label("gap"),
            ga.n_tokens.label("tokens_a"),
            gb.n_tokens.label("tokens_b"),
            ga.finish_reason.label("finish_a"),
            gb.finish_reason.label("finish_b"),
            ga.id.label("ga_id"),
            gb.id.label("gb_id"),
        ).join(Pair, Pair.id == ga.pair_id)
        for column, value in ((Pair.category, category), (Pair.split, split)):
            if value is not None:
                stmt = stmt.where(column == value)
        if terms:  # answers are few next to pairs: a LIKE over them is cheap
            stmt = stmt.where(_like_all(terms, (Pair.prompt_text, ga.text, gb.text)))
    if min_gap is not None:
        stmt = stmt.where(gap >= min_gap)
    if max_gap is not None:
        stmt = stmt.where(gap <= max_gap)

    query = [run_id, a, b, min_gap, max_gap, category, split, terms, sort]
    fingerprint = hashlib.sha256(json.dumps(query).encode()).hexdigest()[:16]
    after = _decode_cursor(cursor, fingerprint) if cursor else None
    try:
        rows = _keyset_page(session, stmt, gap, pair_id, sort, after, limit, walk_index=not terms)
    except OperationalError as exc:  # e.g. a search string FTS5 cannot take
        raise QueryError(f"q {q!r} cannot be searched: {exc.orig}") from exc
    page = rows[:limit]
    previews = _pair_previews(session, [r.pair_id for r in page])
    items = []
    if run.kind == "score":
        for r in page:
            _, split_, category_, prompt, chosen, rejected = previews[r.pair_id]
            item = {"pair_id": r.pair_id, "category": category_, "split": split_}
            item |= {k: v for k, v in r._mapping.items() if k != "pair_id"}
            items.append(item | {"prompt": prompt, "chosen": chosen, "rejected": rejected})
    else:
        texts = dict(
            session.execute(
                select(Generation.id, func.substr(Generation.text, 1, PREVIEW_CHARS)).where(
                    Generation.id.in_([r.ga_id for r in page] + [r.gb_id for r in page])
                )
            ).all()
        )
        for r in page:
            _, split_, category_, prompt, _, _ = previews[r.pair_id]
            item = {"pair_id": r.pair_id, "category": category_, "split": split_}
            item |= {k: v for k, v in r._mapping.items() if k not in ("pair_id", "ga_id", "gb_id")}
            items.append(
                item | {"prompt": prompt, "text_a": texts[r.ga_id], "text_b": texts[r.gb_id]}
            )
    next_cursor = None
    if len(rows) > limit:
        last = page[-1]
        k = abs(last.gap) if sort == "abs_gap" else last.gap
        next_cursor = _encode_cursor({"k": k, "id": last.pair_id, "f": fingerprint})
    return {
        "run_id": run_id,
        "kind": run.kind,
        "a": a,
        "b": b,
        "sort": sort,
        "items": items,
        "next_cursor": next_cursor,
    }


def get_case(
    session: Session, run_id: int, pair_id: int, a: str | None = None, b: str | None = None
) -> dict[str, Any]:
    """One case in full: the pair (prompt messages, both responses) and its scores in the
    run; for a score_generations run also every policy's answer with its score, and the
    A-vs-B gap (``a``/``b`` default to the run's first comparison)."""
    run = _scored_run(session, run_id)
    pair = session.get(Pair, pair_id)
    if pair is None:
        raise NotFoundError(f"no pair with id {pair_id}")
    out: dict[str, Any] = {
        "run_id": run_id,
        "kind": run.kind,
        "pair": {
            "id": pair.id,
            "dataset": pair.dataset.name,
            "split": pair.split,
            "category": pair.category,
            "source_row": pair.source_row,
            "prompt": pair.prompt,
            "prompt_text": pair.prompt_text,
            "chosen": pair.chosen,
            "rejected": pair.rejected,
        },
    }
    if run.kind == "score":
        ps = session.scalars(
            select(PairScore).where(PairScore.run_id == run_id, PairScore.pair_id == pair_id)
        ).first()
        if ps is None:
            raise NotFoundError(f"pair {pair_id} has no score in run {run_id}")
        out["scores"] = {
            "score_chosen": ps.score_chosen,
            "score_rejected": ps.score_rejected,
            "gap": ps.gap,
            "p_chosen_preferred": 1.0 / (1.0 + math.exp(-ps.gap)),
            "tokens_chosen": ps.tokens_chosen,
            "tokens_rejected": ps.tokens_rejected,
            "truncated_chosen": ps.truncated_chosen,
            "truncated_rejected": ps.truncated_rejected,
        }
        return out
    a, b, _ = _comparison(session, run, a, b)
    rows = session.execute(
        select(Generation, GenerationScore)
        .join(GenerationScore, GenerationScore.generation_id == Generation.id)
        .where(GenerationScore.run_id == run_id, Generation.pair_id == pair_id)
    ).all()
    answers = {
        g.policy: {
            "policy": g.policy,
            "text": g.text,
            "n_tokens": g.n_tokens,
            "finish_reason": g.finish_reason,
            "seconds": g.seconds,
            "score": gs.score,
            "score_tokens": gs.n_tokens,
            "truncated": gs.truncated,
        }
        for g, gs in rows
    }
    if a not in answers or b not in answers:
        raise NotFoundError(f"pair {pair_id} has no scored answers of {a} and {b} in run {run_id}")
    order = run_policies(session, run)
    out["a"], out["b"] = a, b
    out["gap"] = answers[a]["score"] - answers[b]["score"]
    out["generations"] = [answers[p] for p in order if p in answers]
    return out


# ------------------------------------------------------------------ dashboard additions
def list_checkpoints(session: Session) -> list[dict[str, Any]]:
    """Checkpoints, oldest first: name, kind (base, rm, policy), base model and the runs
    that made or used them; server paths are cut to their last component."""
    used: dict[int, list[int]] = {}
    for ckpt_id, run_id in session.execute(
        select(Run.checkpoint_id, Run.id).where(Run.checkpoint_id.is_not(None)).order_by(Run.id)
    ):
        used.setdefault(ckpt_id, []).append(run_id)
    return [
        {
            "id": c.id,
            "name": c.name,
            "kind": c.kind,
            "path": public(c.path),
            "base": public(c.base),
            "created_at": _iso(c.created_at),
            "runs": used.get(c.id, []),
        }
        for c in session.scalars(select(Checkpoint).order_by(Checkpoint.id))
    ]


def _values_at_ranks(session: Session, sub: Any, ranks: Sequence[int]) -> dict[int, float]:
    """The values of ``sub.c.x`` at 1-based ranks of its ascending order (one sort)."""
    ranked = select(sub.c.x, func.row_number().over(order_by=sub.c.x).label("rn")).subquery()
    rows = session.execute(
        select(ranked.c.rn, ranked.c.x).where(ranked.c.rn.in_(sorted(set(ranks))))
    ).all()
    return {int(r): float(v) for r, v in rows}


def box_stats(
    session: Session,
    run_id: int,
    side: str = "gap",
    *,
    policy: str | None = None,
    a: str | None = None,
    b: str | None = None,
) -> dict[str, Any]:
    """What a box plot draws, computed in SQL: n, mean, (population) std, min, max, the
    quartiles (linear interpolation between ranks, as ``numpy.quantile``), the whiskers
    (the most extreme values within 1.5 IQR of the box, Tukey's rule) and how many values
    lie beyond them. Sides as in ``histogram``."""
    run = _scored_run(session, run_id)
    series, described = _series(session, run, side, policy, a, b)
    sub = series.subquery()
    x = sub.c.x
    n, mean, vmin, vmax = session.execute(
        select(func.count(), func.avg(x), func.min(x), func.max(x))
    ).one()
    head = {"run_id": run_id, **described, "n": int(n or 0)}
    if not n:
        return head
    var = session.scalar(select(func.avg((x - mean) * (x - mean)))) or 0.0
    positions = {q: (n - 1) * q for q in (0.25, 0.5, 0.75)}
    needed = [r for h in positions.values() for r in (math.floor(h) + 1, min(math.floor(h) + 2, n))]
    at = _values_at_ranks(session, sub, needed)
    quartiles = {}
    for q, h in positions.items():
        low, frac = at[math.floor(h) + 1], h - math.floor(h)
        high = at[min(math.floor(h) + 2, n)]
        quartiles[q] = low + frac * (high - low)
    q1, q3 = quartiles[0.25], quartiles[0.75]
    fence_lo, fence_hi = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
    w_lo, w_hi, out_lo, out_hi = session.execute(
        select(
            func.min(case((x >= fence_lo, x))),
            func.max(case((x <= fence_hi, x))),
            func.sum(case((x < fence_lo, 1), else_=0)),
            func.sum(case((x > fence_hi, 1), else_=0)),
        )
    ).one()
    return {
        **head,
        "mean": float(mean),
        "std": math.sqrt(max(float(var), 0.0)),
        "min": float(vmin),
        "q1": q1,
        "median": quartiles[0.5],
        "q3": q3,
        "max": float(vmax),
        "whisker_low": float(w_lo),
        "whisker_high": float(w_hi),
        "outliers_low": int(out_lo or 0),
        "outliers_high": int(out_hi or 0),
    }
