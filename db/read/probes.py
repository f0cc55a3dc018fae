"""Read queries of probe runs (counterfactual edits scored by an RM) and score-dpo runs
(per-pair log-probs and implicit rewards), and the agreement of a DPO run with an RM's
score run on the same pairs. Plain JSON-able results; no torch.

Conventions, stated once: a *change* is edited score minus original score of the same
side. A pair's preference *order flips* under an edit of one side when the sign of
chosen - rejected changes strictly (a gap of exactly 0 is a tie and never counts as a
flip). Rates carry a 95% Wilson interval, means a 95% percentile-bootstrap interval over
pairs (``preflens.uncertainty``: ``{value, ci_low, ci_high, n, method}``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.lookup import run_record
from db.read.compare import require_same_pairs
from db.schema import DpoScore, Pair, PairScore, ProbeScore, Run
from preflens.errors import NotFoundError, QueryError
from preflens.stats import pearson, spearman
from preflens.uncertainty import bootstrap_mean, proportion

ORIGINAL = "original"
PROBE_ORDERS = ("mean_change", "flip_rate")


# ------------------------------------------------------------------ intervals
def rate(k: int, n: int) -> dict[str, Any]:
    """A share k / n with its 95% Wilson interval (``preflens.uncertainty``) and ``k``."""
    return {**proportion(int(k), int(n)), "k": int(k)}


def mean_interval(values: Sequence[float]) -> dict[str, Any]:
    """Mean with a 95% percentile-bootstrap interval (seeded: same data, same interval)."""
    return bootstrap_mean(np.asarray(values, dtype=np.float64))


def _kind(session: Session, run_id: int, kind: str) -> Run:
    run = run_record(session, run_id)
    if run.kind != kind:
        raise QueryError(f"run {run_id} is a {run.kind} run, not a {kind} run")
    return run


# ------------------------------------------------------------------ probes
def _probe_table(session: Session, run_id: int) -> dict[int, dict[tuple[str, str], float]]:
    rows = session.execute(
        select(ProbeScore.pair_id, ProbeScore.edit, ProbeScore.side, ProbeScore.score).where(
            ProbeScore.run_id == run_id
        )
    ).all()
    table: dict[int, dict[tuple[str, str], float]] = defaultdict(dict)
    for pair_id, edit, side, score in rows:
        table[pair_id][(edit, side)] = score
    return table


def flipped(before: float, after: float) -> bool:
    return (before > 0 and after < 0) or (before < 0 and after > 0)


def probe_summary(session: Session, run_id: int, order: str = "mean_change") -> dict[str, Any]:
    """Per edit of a probe run, over the pairs with all four scores (both sides, original
    and edited): mean change of each side and of the pair's two sides averaged (95%
    bootstrap interval over pairs), and the flip rate when the edit is applied to the chosen side
    (it now loses) and to the rejected side (it now wins), with 95% Wilson intervals.
    ``order``: ``mean_change`` ranks by |mean change| (largest first), ``flip_rate`` by
    the larger of the two flip rates."""
    run = _kind(session, run_id, "probe")
    if order not in PROBE_ORDERS:
        raise QueryError(f"order {order!r}: choose one of {', '.join(PROBE_ORDERS)}")
    table = _probe_table(session, run_id)
    config = run.config or {}
    described = {e["name"]: e.get("description", "") for e in config.get("edits", [])}
    names = [e["name"] for e in config.get("edits", [])]
    names += sorted({e for t in table.values() for e, _ in t} - set(names) - {ORIGINAL})
    originals = {
        pid: (t[(ORIGINAL, "chosen")], t[(ORIGINAL, "rejected")])
        for pid, t in table.items()
        if (ORIGINAL, "chosen") in t and (ORIGINAL, "rejected") in t
    }
    gaps = np.array([c - r for c, r in originals.values()], dtype=np.float64)
    edits = []
    for name in names:
        dc, dr, flips_c, flips_r = [], [], 0, 0
        for pid, (c, r) in originals.items():
            t = table[pid]
            if (name, "chosen") not in t or (name, "rejected") not in t:
                continue
            c2, r2 = t[(name, "chosen")], t[(name, "rejected")]
            dc.append(c2 - c)
            dr.append(r2 - r)
            flips_c += flipped(c - r, c2 - r)
            flips_r += flipped(c - r, c - r2)
        n = len(dc)
        both = (np.asarray(dc) + np.asarray(dr)) / 2 if n else []
        fc, fr = rate(flips_c, n), rate(flips_r, n)
        edits.append(
            {
                "edit": name,
                "description": described.get(name, ""),
                "pairs": n,
                "mean_change": mean_interval(both),
                "mean_change_chosen": mean_interval(dc),
                "mean_change_rejected": mean_interval(dr),
                "flip_rate_chosen": fc,
                "flip_rate_rejected": fr,
                "flip_rate": max(fc["value"] or 0.0, fr["value"] or 0.0) if n else None,
            }
        )
    if order == "mean_change":
        edits.sort(key=lambda e: -abs(e["mean_change"]["value"] or 0.0))
    else:
        edits.sort(key=lambda e: -(e["flip_rate"] or 0.0))
    return {
        "run_id": run_id,
        "pairs": len(originals),
        "original_accuracy": rate(int(np.sum(gaps > 0)), len(gaps)),
        "original_ties": int(np.sum(gaps == 0)),
        "order": order,
        "edits": edits,
    }


def probe_pair_ids(session: Session, run_id: int, edit: str | None = None) -> list[int]:
    """Pair ids of a probe run (by id); with ``edit``, only the pairs whose order flips
    when that edit is applied to either side."""
    _kind(session, run_id, "probe")
    table = _probe_table(session, run_id)
    ids = []
    for pid in sorted(table):
        t = table[pid]
        if edit is None:
            ids.append(pid)
            continue
        try:
            c, r = t[(ORIGINAL, "chosen")], t[(ORIGINAL, "rejected")]
            c2, r2 = t[(edit, "chosen")], t[(edit, "rejected")]
        except KeyError:
            continue
        if flipped(c - r, c2 - r) or flipped(c - r, c - r2):
            ids.append(pid)
    return ids


def probe_pair(session: Session, run_id: int, pair_id: int) -> dict[str, Any]:
    """One pair of a probe run: the prompt and, per edit, both edited texts side by side
    with their scores, changes and whether the order flips."""
    _kind(session, run_id, "probe")
    rows = session.execute(
        select(ProbeScore).where(ProbeScore.run_id == run_id, ProbeScore.pair_id == pair_id)
    ).scalars()
    by_edit: dict[str, dict[str, ProbeScore]] = defaultdict(dict)
    for row in rows:
        by_edit[row.edit][row.side] = row
    pair = session.get(Pair, pair_id)
    if pair is None or not by_edit:
        raise NotFoundError(f"pair {pair_id} has no probe scores in run {run_id}")
    orig = by_edit.get(ORIGINAL, {})
    c0 = orig["chosen"].score if "chosen" in orig else None
    r0 = orig["rejected"].score if "rejected" in orig else None
    edits = []
    for name in [ORIGINAL, *sorted(set(by_edit) - {ORIGINAL})]:
        sides = by_edit.get(name, {})
        item: dict[str, Any] = {"edit": name}
        for side, base in (("chosen", c0), ("rejected", r0)):
            row = sides.get(side)
            item[f"{side}_text"] = row.text if row else None
            item[f"{side}_score"] = row.score if row else None
            item[f"{side}_change"] = (
                row.score - base if row is not None and base is not None else None
            )
            item[f"{side}_truncated"] = row.truncated if row else None
        if None not in (c0, r0, item["chosen_score"], item["rejected_score"]):
            item["flips_chosen"] = flipped(c0 - r0, item["chosen_score"] - r0)
            item["flips_rejected"] = flipped(c0 - r0, c0 - item["rejected_score"])
        edits.append(item)
    return {
        "run_id": run_id,
        "pair_id": pair_id,
        "prompt": pair.prompt,
        "category": pair.category,
        "split": pair.split,
        "edits": edits,
    }


# ------------------------------------------------------------------ DPO per pair
def _dpo_rows(session: Session, run_id: int) -> list[Any]:
    return (
        session.execute(
            select(DpoScore).where(DpoScore.run_id == run_id).order_by(DpoScore.pair_id)
        )
        .scalars()
        .all()
    )


def dpo_summary(session: Session, run_id: int) -> dict[str, Any]:
    """A score_dpo run: implicit-reward accuracy (reward_chosen > reward_rejected; ties
    count as wrong) with a 95% Wilson interval, the length-normalised accuracy (per-token
    mean log-ratio, or mean log-prob without a reference), the share of pairs whose
    chosen (rejected, both) log-prob fell below the reference, and mean rewards."""
    run = _kind(session, run_id, "score_dpo")
    rows = _dpo_rows(session, run_id)
    n = len(rows)
    reference_free = bool((run.config or {}).get("reference_free"))
    out: dict[str, Any] = {
        "run_id": run_id,
        "pairs": n,
        "beta": (run.config or {}).get("beta"),
        "reference_free": reference_free,
        "reward": "beta x mean log-prob (no reference)"
        if reference_free
        else "beta x (log pi - log ref), summed over response tokens",
    }
    if not n:
        return out
    rc = np.array([r.reward_chosen for r in rows])
    rr = np.array([r.reward_rejected for r in rows])
    tc = np.array([max(r.tokens_chosen, 1) for r in rows], dtype=np.float64)
    tr = np.array([max(r.tokens_rejected, 1) for r in rows], dtype=np.float64)
    pc = np.array([r.logp_policy_chosen for r in rows])
    pr = np.array([r.logp_policy_rejected for r in rows])
    out["accuracy"] = rate(int(np.sum(rc > rr)), n)
    out["ties"] = int(np.sum(rc == rr))
    out["reward_chosen_mean"] = float(rc.mean())
    out["reward_rejected_mean"] = float(rr.mean())
    out["margin"] = mean_interval(rc - rr)
    if reference_free:
        # Rewards are per-token already; the other variant is the summed log-prob.
        out["length_normalised_accuracy"] = out["accuracy"]
        out["summed_logp_accuracy"] = rate(int(np.sum(pc > pr)), n)
        return out
    fc = np.array([r.logp_ref_chosen for r in rows])
    fr = np.array([r.logp_ref_rejected for r in rows])
    out["length_normalised_accuracy"] = rate(int(np.sum((pc - fc) / tc > (pr - fr) / tr)), n)
    out["chosen_fell"] = rate(int(np.sum(pc < fc)), n)
    out["rejected_fell"] = rate(int(np.sum(pr < fr)), n)
    out["both_fell"] = rate(int(np.sum((pc < fc) & (pr < fr))), n)
    out["delta_logp_chosen_mean"] = float((pc - fc).mean())
    out["delta_logp_rejected_mean"] = float((pr - fr).mean())
    return out


def dpo_points(session: Session, run_id: int) -> list[dict[str, Any]]:
    """Per pair of a score_dpo run: log-probs, response tokens, rewards, gap and the change
    in log-prob from the reference of each side (None without a reference)."""
    _kind(session, run_id, "score_dpo")
    points = []
    for r in _dpo_rows(session, run_id):
        has_ref = r.logp_ref_chosen is not None and r.logp_ref_rejected is not None
        points.append(
            {
                "pair_id": r.pair_id,
                "category": r.category,
                "logp_policy_chosen": r.logp_policy_chosen,
                "logp_policy_rejected": r.logp_policy_rejected,
                "logp_ref_chosen": r.logp_ref_chosen,
                "logp_ref_rejected": r.logp_ref_rejected,
                "tokens_chosen": r.tokens_chosen,
                "tokens_rejected": r.tokens_rejected,
                "reward_chosen": r.reward_chosen,
                "reward_rejected": r.reward_rejected,
                "gap": r.gap,
                "delta_chosen": r.logp_policy_chosen - r.logp_ref_chosen if has_ref else None,
                "delta_rejected": r.logp_policy_rejected - r.logp_ref_rejected if has_ref else None,
            }
        )
    return points


def agreement(session: Session, dpo_run: int, rm_run: int, limit: int = 50) -> dict[str, Any]:
    """The RM's gap (chosen - rejected, a score run) against the DPO implicit-reward gap
    on the pairs both runs hold: the four sign quadrants counted (a gap of 0 counts as
    not preferring chosen), Pearson and Spearman correlation, and the pairs where the two
    disagree (largest |RM gap| first, at most ``limit``)."""
    _kind(session, dpo_run, "score_dpo")
    _kind(session, rm_run, "score")
    require_same_pairs(run_record(session, dpo_run), run_record(session, rm_run))
    rows = session.execute(
        select(DpoScore.pair_id, DpoScore.category, PairScore.gap, DpoScore.gap)
        .join(PairScore, PairScore.pair_id == DpoScore.pair_id)
        .where(DpoScore.run_id == dpo_run, PairScore.run_id == rm_run)
        .order_by(DpoScore.pair_id)
    ).all()
    rm = np.array([r[2] for r in rows], dtype=np.float64)
    dpo = np.array([r[3] for r in rows], dtype=np.float64)
    quadrants = {
        "both_prefer_chosen": int(np.sum((rm > 0) & (dpo > 0))),
        "rm_only": int(np.sum((rm > 0) & (dpo <= 0))),
        "dpo_only": int(np.sum((rm <= 0) & (dpo > 0))),
        "neither": int(np.sum((rm <= 0) & (dpo <= 0))),
    }
    disagree = [r for r in rows if (r[2] > 0) != (r[3] > 0)]
    disagree.sort(key=lambda r: -abs(r[2]))
    n = len(rows)
    return {
        "dpo_run": dpo_run,
        "rm_run": rm_run,
        "pairs": n,
        "quadrants": quadrants,
        "agreement": rate(quadrants["both_prefer_chosen"] + quadrants["neither"], n),
        "pearson": pearson(rm, dpo),
        "spearman": spearman(rm, dpo),
        "points": [
            {"pair_id": r[0], "category": r[1], "rm_gap": r[2], "dpo_gap": r[3]} for r in rows
        ],
        "disagreeing": [
            {"pair_id": r[0], "category": r[1], "rm_gap": r[2], "dpo_gap": r[3]}
            for r in disagree[:limit]
        ],
        "disagreeing_total": len(disagree),
    }
