"""Diagnostics of one run, computed from one read of its numeric columns into numpy:
uncertainty of the headline numbers, length control and calibration (``run_diagnostics``).
Two score runs on the same pairs, confidently-wrong pairs and label-noise candidates live
in ``db.read.paired``.

Conventions (also returned under ``conventions``): accuracy is the share of pairs with
gap = chosen - rejected > 0, so a gap of exactly 0 counts as wrong; rates carry Wilson 95%
intervals; means and AUC carry seeded percentile-bootstrap 95% intervals.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.read import paired as paired_module
from db.read.case_detail import head_initialized
from db.read.columns import score_columns
from db.read.common import run_policies, scored_run
from db.read.headlines import cut_counts, pair_cut, win_rate_headline
from db.read.paired import confidently_wrong, label_noise_candidates, paired, paired_scatter
from db.read.run_state import run_state
from db.read.summaries import group_counts
from db.schema import Generation, GenerationScore
from preflens.calibration import calibration
from preflens.headline import better_baseline, headline
from preflens.length_control import lc_win_rate, score_length_control
from preflens.stats import ranks
from preflens.uncertainty import (
    DEFAULT_B,
    DEFAULT_SEED,
    bootstrap_auc,
    bootstrap_mean,
    bootstrap_paired_difference,
    proportion,
    win_rates,
)

__all__ = [
    "confidently_wrong",
    "generation_diagnostics",
    "label_noise_candidates",
    "paired",
    "paired_module",
    "paired_scatter",
    "run_diagnostics",
    "score_columns",
    "score_diagnostics",
]

CONVENTIONS = {
    "accuracy": "share of pairs with gap = score_chosen - score_rejected > 0; gap 0 is wrong",
    "intervals": "95%: Wilson for rates, seeded percentile bootstrap for means and AUC",
    "auc": "Mann-Whitney: P(chosen score > rejected score) over all chosen x rejected",
    "std": "population standard deviation of the values, not an uncertainty",
}


def by_group(session: Session, run_id: int, column: str) -> list[dict[str, Any]]:
    """Accuracy (Wilson) per category or split of a score run; None last. A finished
    run's counts were stored with its summary; otherwise they are counted in SQL."""
    run = scored_run(session, run_id)
    stored = ((run.summary or {}).get("counts_by") or {}).get(column)
    rows = stored if run.status == "done" and stored is not None else None
    if rows is None:
        rows = group_counts(session, run_id, column)
    if column == "category" and all(name is None for name, _, _ in rows):
        return []  # a dataset without categories: no "(none)" group standing for them all
    return [
        {column: name, "n": int(n), "accuracy": proportion(int(k or 0), int(n))}
        for name, n, k in rows
    ]


def score_diagnostics(
    session: Session, run_id: int, b: int = DEFAULT_B, seed: int = DEFAULT_SEED
) -> dict[str, Any]:
    """Diagnostics of a score run: accuracy, AUC, mean gap with intervals; accuracy per
    category and split; length control (characters, and tokens when stored); calibration."""
    c = score_columns(session, run_id)
    gap = c["gap"]
    n = len(gap)
    correct = gap > 0
    gap_ranks = ranks(gap)  # shared by both length-control Spearman correlations
    out: dict[str, Any] = {
        "run_id": run_id,
        "kind": "score",
        "n": n,
        "accuracy": proportion(int(correct.sum()), n),
        "auc": bootstrap_auc(c["chosen"], c["rejected"], b, seed),
        "gap_mean": bootstrap_mean(gap, b, seed),
        "gap_std": float(gap.std()) if n else None,
        "ties": int((gap == 0).sum()),
        "by_category": by_group(session, run_id, "category"),
        "by_split": by_group(session, run_id, "split"),
        "length": score_length_control(
            gap, c["chars_chosen"], c["chars_rejected"], "characters", b, seed, gap_ranks
        ),
        "calibration": calibration(gap),
        "conventions": {**CONVENTIONS, "length": c["length_source"]},
    }
    out["length"]["source"] = c["length_source"]
    untrained = head_initialized(scored_run(session, run_id))
    out["headlines"] = [
        headline(
            "accuracy",
            out["accuracy"],
            baseline=better_baseline(out["length"]),
            untrained=untrained,
        ),
        headline("AUC", out["auc"], untrained=untrained),
    ]
    if c["tokens_chosen"] is not None:
        out["length_tokens"] = score_length_control(
            gap, c["tokens_chosen"], c["tokens_rejected"], "tokens", b, seed, gap_ranks
        )
        out["length_tokens"]["source"] = "response-only tokens stored at scoring"
    return out


def generation_columns(session: Session, run_id: int) -> dict[str, dict[int, tuple]]:
    """Per policy of a score_generations run: pair id -> (score, characters, tokens)."""
    rows = session.execute(
        select(
            Generation.policy,
            Generation.pair_id,
            GenerationScore.score,
            func.length(Generation.text),
            Generation.n_tokens,
        )
        .join(Generation, Generation.id == GenerationScore.generation_id)
        .where(GenerationScore.run_id == run_id)
    ).all()
    by_policy: dict[str, dict[int, tuple]] = {}
    for policy, pair_id, score, chars, tokens in rows:
        by_policy.setdefault(policy, {})[pair_id] = (score, chars, tokens)
    return by_policy


def generation_diagnostics(
    session: Session, run_id: int, b: int = DEFAULT_B, seed: int = DEFAULT_SEED
) -> dict[str, Any]:
    """Diagnostics of a score_generations run: per policy the mean RM score with an
    interval; per comparison (A the later-listed policy, B the earlier) on the prompts
    both answered: mean of score_A - score_B (paired bootstrap), win rates with intervals,
    sign-test p and the length-controlled win rate (length in characters)."""
    run = scored_run(session, run_id)
    tie_margin = float((run.config or {}).get("tie_margin", 0.0))
    by_policy = generation_columns(session, run_id)
    names = [p for p in run_policies(session, run) if p in by_policy]
    policies = {}
    for name in names:
        vals = np.array(list(by_policy[name].values()), dtype=np.float64).reshape(-1, 3)
        policies[name] = {
            "n": len(vals),
            "score_mean": bootstrap_mean(vals[:, 0], b, seed),
            "score_std": float(vals[:, 0].std()),
            "mean_chars": float(vals[:, 1].mean()),
        }
    comparisons = []
    cuts, untrained = cut_counts(session, run_id), head_initialized(run)
    for pb, pa in itertools.combinations(names, 2):
        common = sorted(set(by_policy[pa]) & set(by_policy[pb]))
        a = np.array([by_policy[pa][i] for i in common], dtype=np.float64).reshape(-1, 3)
        bb = np.array([by_policy[pb][i] for i in common], dtype=np.float64).reshape(-1, 3)
        d = a[:, 0] - bb[:, 0]
        wins, losses = int((d > tie_margin).sum()), int((d < -tie_margin).sum())
        comparisons.append(
            {
                "a": pa,
                "b": pb,
                "n": len(common),
                "mean_difference": bootstrap_paired_difference(a[:, 0], bb[:, 0], b, seed),
                **win_rates(wins, len(common) - wins - losses, losses),
                "length_controlled": lc_win_rate(d, a[:, 1] - bb[:, 1], tie_margin, b, seed),
                "mean_chars_a": float(a[:, 1].mean()) if len(a) else None,
                "mean_chars_b": float(bb[:, 1].mean()) if len(bb) else None,
                "tie_margin": tie_margin,
            }
        )
        c = comparisons[-1]
        c["headline"] = win_rate_headline(pa, pb, c["win_rate"], pair_cut(cuts, pa, pb), untrained)
    return {
        "run_id": run_id,
        "kind": "score_generations",
        "policies": policies,
        "comparisons": comparisons,
        "conventions": {
            **CONVENTIONS,
            "comparison": "A beats B where score_A - score_B > tie_margin; win_rate = "
            "(W + T/2) / n, decisive_win_rate = W / (W + L); sign test on W vs L",
            "length": "characters of the generated answers",
        },
    }


def run_diagnostics(
    session: Session, run_id: int, b: int = DEFAULT_B, seed: int = DEFAULT_SEED
) -> dict[str, Any]:
    """Diagnostics of a score or score_generations run (``QueryError`` for other kinds),
    with the run's ``status``, ``partial`` and ``state`` (``db.read.run_state``)."""
    run = scored_run(session, run_id)
    if run.kind == "score":
        out = score_diagnostics(session, run_id, b, seed)
    else:
        out = generation_diagnostics(session, run_id, b, seed)
    # Numbers of a failed or running run are not final: say so on every surface.
    policies = (out.get("policies") or {}).values()
    rows = out.get("n") or max((p.get("n", 0) for p in policies), default=0)
    state = run_state(run, rows)
    return out | {"status": state["status"], "partial": state["partial"], "state": state}
