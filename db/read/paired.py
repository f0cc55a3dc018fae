"""Two score runs on the same pairs (paired comparison), where a run is confidently
wrong, and pairs several runs agree are mislabelled. Plain JSON-able values; a gap of
exactly 0 counts as wrong, as in every accuracy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from db.lookup import run_record
from db.read.common import PREVIEW_CHARS, scored_run
from db.read.compare import check_comparable, require_same_pairs
from db.schema import Pair, PairScore
from preflens.errors import QueryError
from preflens.stats import sigmoid, spearman
from preflens.uncertainty import (
    DEFAULT_B,
    DEFAULT_SEED,
    bootstrap_paired_difference,
    mcnemar_exact,
    proportion,
)

MAX_FLIP_IDS = 200
MAX_CASES = 500


def _score_run(session: Session, run_id: int) -> None:
    if scored_run(session, run_id).kind != "score":
        raise QueryError(f"run {run_id} is not a score run (pairs scored chosen vs rejected)")


def _gaps(session: Session, run_id: int) -> tuple[np.ndarray, np.ndarray]:
    rows = session.execute(
        select(PairScore.pair_id, PairScore.gap)
        .where(PairScore.run_id == run_id)
        .order_by(PairScore.pair_id)
    ).all()
    arr = np.array(rows, dtype=np.float64).reshape(-1, 2)
    return arr[:, 0].astype(np.int64), arr[:, 1]


def paired(
    session: Session,
    run_a: int,
    run_b: int,
    b: int = DEFAULT_B,
    seed: int = DEFAULT_SEED,
    max_ids: int = MAX_FLIP_IDS,
) -> dict[str, Any]:
    """Run B against run A on the pairs both scored: accuracies (Wilson), the accuracy
    difference B - A with a paired bootstrap interval, the exact McNemar p-value, the
    flipped pairs (ids capped at ``max_ids``), Kendall's tau-b and Spearman between the
    two runs' gaps. Pairs scored by only one run are left out and counted. Runs on
    different pairs are refused (``IncomparableError``, see ``db.read.compare``)."""
    check_comparable(session, run_a, run_b)
    ids_a, gap_a = _gaps(session, run_a)
    ids_b, gap_b = _gaps(session, run_b)
    common, ia, ib = np.intersect1d(ids_a, ids_b, assume_unique=True, return_indices=True)
    ga, gb = gap_a[ia], gap_b[ib]
    ra, rb = ga > 0, gb > 0
    n = len(common)
    w2r, r2w = ~ra & rb, ra & ~rb
    tau = stats.kendalltau(ga, gb).statistic if n >= 2 else None
    return {
        "run_a": run_a,
        "run_b": run_b,
        "n": n,
        "left_out": {"only_a": len(ids_a) - n, "only_b": len(ids_b) - n},
        "accuracy_a": proportion(int(ra.sum()), n),
        "accuracy_b": proportion(int(rb.sum()), n),
        "difference": bootstrap_paired_difference(rb, ra, b, seed),
        "mcnemar_p": mcnemar_exact(int(w2r.sum()), int(r2w.sum())),
        "flips": {
            "wrong_to_right": int(w2r.sum()),
            "right_to_wrong": int(r2w.sum()),
            "wrong_to_right_ids": common[w2r][:max_ids].tolist(),
            "right_to_wrong_ids": common[r2w][:max_ids].tolist(),
            "ids_capped_at": max_ids,
        },
        "both_right": int((ra & rb).sum()),
        "both_wrong": int((~ra & ~rb).sum()),
        "kendall_tau": None if tau is None or np.isnan(tau) else float(tau),
        "spearman": spearman(ga, gb),
        "conventions": {
            "difference": "accuracy_b - accuracy_a on the same pairs; paired bootstrap 95%",
            "flips": "wrong_to_right: wrong in run a, right in run b (gap 0 is wrong)",
            "kendall_tau": "tau-b between the two runs' gaps",
        },
    }


def paired_scatter(session: Session, run_a: int, run_b: int) -> list[dict[str, Any]]:
    """Gap A and gap B per pair both runs scored (for the paired scatter)."""
    check_comparable(session, run_a, run_b)
    ids_a, gap_a = _gaps(session, run_a)
    ids_b, gap_b = _gaps(session, run_b)
    common, ia, ib = np.intersect1d(ids_a, ids_b, assume_unique=True, return_indices=True)
    return [
        {"pair_id": int(p), "gap_a": float(x), "gap_b": float(y)}
        for p, x, y in zip(common, gap_a[ia], gap_b[ib], strict=True)
    ]


def _preview(text: str | None) -> str:
    text = text or ""
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


def confidently_wrong(session: Session, run_id: int, limit: int = 20) -> list[dict[str, Any]]:
    """The pairs a score run gets wrong most confidently: gap <= 0, most negative first
    (ties by pair id), with P(chosen) = sigmoid(gap) and text previews."""
    if not 1 <= limit <= MAX_CASES:
        raise QueryError(f"limit must be between 1 and {MAX_CASES}")
    _score_run(session, run_id)
    s = PairScore
    rows = session.execute(
        select(
            s.pair_id,
            s.gap,
            s.score_chosen,
            s.score_rejected,
            s.category,
            Pair.split,
            Pair.prompt_text,
            Pair.chosen,
            Pair.rejected,
        )
        .join(Pair, Pair.id == s.pair_id)
        .where(s.run_id == run_id, s.gap <= 0)
        .order_by(s.gap, s.pair_id)
        .limit(limit)
    ).all()
    return [
        {
            "pair_id": r[0],
            "gap": r[1],
            "p_chosen": sigmoid(r[1]),
            "score_chosen": r[2],
            "score_rejected": r[3],
            "category": r[4],
            "split": r[5],
            "prompt": _preview(r[6]),
            "chosen": _preview(r[7]),
            "rejected": _preview(r[8]),
        }
        for r in rows
    ]


def label_noise_candidates(
    session: Session, run_ids: Sequence[int], min_agree: int | None = None, limit: int = 50
) -> dict[str, Any]:
    """Pairs where at least ``min_agree`` of the score runs ``run_ids`` (default: all)
    prefer the rejected response (gap < 0; a tie is no vote), most votes first, then the
    most negative mean gap: candidates for a wrong label."""
    runs = list(dict.fromkeys(run_ids))
    if not runs:
        raise QueryError("name at least one score run")
    for rid in runs:
        _score_run(session, rid)
    first = run_record(session, runs[0])
    for rid in runs[1:]:  # votes only count on the same pairs
        require_same_pairs(first, run_record(session, rid))
    min_agree = len(runs) if min_agree is None else min_agree
    if not 1 <= min_agree <= len(runs):
        raise QueryError(f"min_agree must be between 1 and the number of runs ({len(runs)})")
    if not 1 <= limit <= MAX_CASES:
        raise QueryError(f"limit must be between 1 and {MAX_CASES}")
    s = PairScore
    against = func.sum(case((s.gap < 0, 1), else_=0))
    grouped = (
        select(
            s.pair_id,
            against.label("against"),
            func.count().label("scored"),
            func.avg(s.gap).label("mean_gap"),
        )
        .where(s.run_id.in_(runs))
        .group_by(s.pair_id)
        .having(against >= min_agree)
        .subquery()
    )
    total = session.scalar(select(func.count()).select_from(grouped)) or 0
    rows = session.execute(
        select(
            grouped.c.pair_id,
            grouped.c.against,
            grouped.c.scored,
            grouped.c.mean_gap,
            Pair.category,
            Pair.prompt_text,
            Pair.chosen,
            Pair.rejected,
        )
        .join(Pair, Pair.id == grouped.c.pair_id)
        .order_by(grouped.c.against.desc(), grouped.c.mean_gap, grouped.c.pair_id)
        .limit(limit)
    ).all()
    return {
        "runs": runs,
        "min_agree": min_agree,
        "total": int(total),
        "candidates": [
            {
                "pair_id": r[0],
                "runs_against": int(r[1]),
                "runs_scored": int(r[2]),
                "mean_gap": float(r[3]),
                "category": r[4],
                "prompt": _preview(r[5]),
                "chosen": _preview(r[6]),
                "rejected": _preview(r[7]),
            }
            for r in rows
        ],
    }
