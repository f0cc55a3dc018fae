"""Likely mislabelled pairs: a suspicion score per pair from every signal the store holds.

Each signal is one run over the dataset's pairs and gives the probability that the
*labelled-rejected* response is the better one:

- a score run (a reward model, a checkpoint, a head seed): ``sigmoid(-gap / T)``, where
  ``T`` is the run's Bradley-Terry temperature fitted on its own gaps
  (``preflens.calibration.fit_temperature``), so a sharp and a flat model count alike;
- a score-dpo run: ``sigmoid(-gap)``, its gap being the implicit-reward margin
  ``beta x (log-ratio chosen - log-ratio rejected)`` (already scaled by the run's beta).

A score run whose temperature fit ends at its upper bound (``T_MAX``: the run is no
better than chance, or ranks pairs backwards) is left out and listed in ``skipped`` with
the reason: its sigmoid(-gap / T) is 0.5 for every pair and would only pull each mean
towards 0.5. A pair's suspicion is the mean of these probabilities over the signals that
scored it (``signals`` says how many). Pairs are ranked by suspicion, highest first; ties go to the
pair with more signals, then the lower pair id. ``runs_against`` counts the signals whose
gap is below 0 (the old vote; a tie is no vote).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.lookup import dataset_record
from db.read.columns import dpo_columns, score_run_columns
from db.read.common import PREVIEW_CHARS, run_model
from db.schema import Pair, PairFlag, Run
from preflens.calibration import T_MAX, fit_failure, fit_temperature
from preflens.errors import QueryError
from preflens.stats import sigmoid_array

SIGNAL_KINDS = ("score", "score_dpo")
MAX_SUSPECTS = 500
STATISTIC = (
    "mean over signals of P(labelled-rejected is better): sigmoid(-gap/T_run) per score run "
    "(T fitted on the run's own gaps), sigmoid(-gap) per score_dpo run (gap = beta x implicit "
    "margin); a score run whose T fit ends at its upper bound (no better than chance) is "
    "left out; ranked by suspicion, ties by more signals, then pair id"
)


def _signal_runs(session: Session, dataset_id: int, run_ids: Sequence[int] | None) -> list[Run]:
    if run_ids:
        runs = []
        for rid in dict.fromkeys(run_ids):
            run = session.get(Run, rid)
            if run is None:
                raise QueryError(f"no run with id {rid}; `preflens runs` lists them")
            if run.kind not in SIGNAL_KINDS or run.dataset_id != dataset_id:
                raise QueryError(f"run {rid} is not a score or score_dpo run on this dataset")
            runs.append(run)
        return runs
    stmt = (
        select(Run)
        .where(Run.kind.in_(SIGNAL_KINDS), Run.dataset_id == dataset_id, Run.status == "done")
        .order_by(Run.id)
    )
    return list(session.scalars(stmt))


def _gaps(session: Session, run: Run) -> tuple[np.ndarray, np.ndarray]:
    """(pair ids, gaps) of one run: a finished run's stored columns (one blob per column),
    else its rows read on the DB-API cursor (row objects cost more than the query at 100k
    pairs)."""
    if run.kind == "score":
        m = score_run_columns(session, run.id)
        return m[:, 0].astype(np.int64), m[:, 3]
    m = dpo_columns(session, run.id)
    return m[:, 0].astype(np.int64), m[:, 1]


def rank_pairs(
    session: Session,
    dataset: str | int,
    run_ids: Sequence[int] | None = None,
    split: str | None = None,
) -> dict[str, Any]:
    """Every pair with at least one signal, ranked (see the module docstring):
    ``pair_id``, ``suspicion``, ``signals``, ``against`` (numpy arrays in rank order) and
    ``runs`` (per signal run: id, kind, pairs, and the temperature or beta used) and
    ``skipped`` (score runs left out: their temperature fit ended at ``T_MAX``, with the
    reason). When every run is skipped the arrays are empty."""
    ds = dataset_record(session, dataset)
    runs = _signal_runs(session, ds.id, run_ids)
    if not runs:
        raise QueryError(
            f"dataset {ds.name!r} has no finished score or score_dpo run; "
            "score it first (`preflens score`)"
        )
    ids, probs, votes, used, skipped = [], [], [], [], []
    for run in runs:
        pid, gap = _gaps(session, run)
        if run.kind == "score":
            t = fit_temperature(gap)
            info = {"temperature": t}
            if t == T_MAX:
                reason = f"temperature fit failed: {fit_failure(gap, [t])}"
                skipped.append(
                    {
                        "run": run.id,
                        "kind": run.kind,
                        "model": run_model(run),
                        "pairs": len(pid),
                        "reason": reason,
                    }
                )
                continue
            q = sigmoid_array(-gap / t)
        else:
            info = {"beta": (run.config or {}).get("beta")}
            q = sigmoid_array(-gap)
        ids.append(pid)
        probs.append(q)
        votes.append(gap < 0)
        used.append(
            {"run": run.id, "kind": run.kind, "model": run_model(run), "pairs": len(pid), **info}
        )
    if not used:
        empty = np.zeros(0, dtype=np.int64)
        ids, probs, votes = [empty], [np.zeros(0)], [np.zeros(0, dtype=bool)]
    all_ids = np.concatenate(ids)
    uniq, inv = np.unique(all_ids, return_inverse=True)
    signals = np.bincount(inv, minlength=len(uniq))
    suspicion = np.bincount(inv, weights=np.concatenate(probs), minlength=len(uniq)) / signals
    against = np.bincount(
        inv, weights=np.concatenate(votes).astype(np.float64), minlength=len(uniq)
    )
    if split is not None:
        keep_ids = np.fromiter(
            session.scalars(select(Pair.id).where(Pair.dataset_id == ds.id, Pair.split == split)),
            dtype=np.int64,
        )
        keep = np.isin(uniq, keep_ids)
        uniq, signals, suspicion, against = (
            uniq[keep],
            signals[keep],
            suspicion[keep],
            against[keep],
        )
    order = np.lexsort((uniq, -signals, -suspicion))
    return {
        "dataset": ds.name,
        "dataset_id": ds.id,
        "split": split,
        "runs": used,
        "skipped": skipped,
        "pair_id": uniq[order],
        "suspicion": suspicion[order],
        "signals": signals[order],
        "against": against[order].astype(np.int64),
    }


def _preview(text: str | None) -> str:
    text = text or ""
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


def suspects(
    session: Session,
    dataset: str | int,
    run_ids: Sequence[int] | None = None,
    split: str | None = None,
    limit: int = 50,
    min_signals: int = 1,
) -> dict[str, Any]:
    """The ``limit`` most suspicious pairs of ``dataset`` (signals: ``run_ids``, default
    every finished score and score_dpo run on it), each with its suspicion, signal count,
    votes against the label, category, split, text previews and its flag if one is set."""
    if not 1 <= limit <= MAX_SUSPECTS:
        raise QueryError(f"limit must be between 1 and {MAX_SUSPECTS}")
    if min_signals < 1:
        raise QueryError("min_signals must be at least 1")
    ranked = rank_pairs(session, dataset, run_ids, split)
    if not ranked["runs"]:
        why = "; ".join(f"run {r['run']}: {r['reason']}" for r in ranked["skipped"])
        raise QueryError(
            f"no signal left to rank dataset {ranked['dataset']!r}: every score run's "
            f"temperature fit failed ({why}); score it with a trained reward model"
        )
    keep = ranked["signals"] >= min_signals
    pid = ranked["pair_id"][keep]
    top = [int(p) for p in pid[:limit]]
    pairs = {p.id: p for p in session.scalars(select(Pair).where(Pair.id.in_(top)))} if top else {}
    flags = (
        {f.pair_id: f for f in session.scalars(select(PairFlag).where(PairFlag.pair_id.in_(top)))}
        if top
        else {}
    )
    rows = []
    for i, p in enumerate(top):
        pair, flag = pairs[p], flags.get(p)
        rows.append(
            {
                "rank": i + 1,
                "pair_id": p,
                "suspicion": float(ranked["suspicion"][keep][i]),
                "signals": int(ranked["signals"][keep][i]),
                "runs_against": int(ranked["against"][keep][i]),
                "category": pair.category,
                "split": pair.split,
                "prompt": _preview(pair.prompt_text),
                "chosen": _preview(pair.chosen),
                "rejected": _preview(pair.rejected),
                "flag": None if flag is None else flag.label,
            }
        )
    return {
        "dataset": ranked["dataset"],
        "split": split,
        "runs": ranked["runs"],
        "skipped": ranked["skipped"],
        "total": int(keep.sum()),
        "min_signals": min_signals,
        "statistic": STATISTIC,
        "suspects": rows,
    }
