"""Headline numbers of runs, each through ``preflens.headline``: value, 95% interval, n,
method and verdict badges. Score runs: accuracy (Wilson) with the better length baseline
on the same pairs and the untrained-head flag. Score_generations runs: A's win rate
against B per comparison (Wilson, ties half) with the answers cut at the token limit.
Every surface (API, dashboard, CLI, report) shows these same dicts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, func, select
from sqlalchemy.orm import Session

from db.read.case_detail import head_initialized
from db.read.columns import score_columns
from db.read.common import scored_run
from db.read.summaries import generation_summary, score_summary
from db.schema import Generation, GenerationScore
from preflens.headline import better_baseline, headline
from preflens.length_control import length_baselines
from preflens.uncertainty import proportion, win_rates


def accuracy_headline(
    n: int, correct: int, *, baseline: dict | None = None, untrained: bool | None = False
) -> dict[str, Any]:
    """The accuracy headline from counts (gap > 0 counts right; a tie is wrong)."""
    return headline("accuracy", proportion(correct, n), baseline=baseline, untrained=untrained)


def score_headline(session: Session, run_id: int) -> dict[str, Any]:
    """A score run's accuracy headline, judged against chance and the better length
    baseline (response-only characters, as in the diagnostics)."""
    run = scored_run(session, run_id)
    summary = run.summary if run.status == "done" and run.summary else None
    summary = summary or score_summary(session, run_id)
    n = int(summary.get("pairs") or 0)
    correct = round((summary.get("accuracy") or 0.0) * n)  # accuracy = correct / n exactly
    baseline = None
    if n:
        c = score_columns(session, run_id)
        longer, shorter = length_baselines(c["chars_chosen"], c["chars_rejected"])
        baseline = better_baseline(
            {"longer_wins_baseline": longer, "shorter_wins_baseline": shorter}
        )
    return accuracy_headline(n, correct, baseline=baseline, untrained=head_initialized(run))


def win_rate_headline(
    a: str, b: str, rate: dict[str, Any], cut: tuple[int, int], untrained: bool | None
) -> dict[str, Any]:
    """A's win rate against B (an interval dict), with (answers of both policies cut at
    the token limit, answers of both): ``most answers cut`` when over half."""
    return headline(f"win rate {a} vs {b}", rate, untrained=untrained, cut=cut)


def cut_counts(session: Session, run_id: int) -> dict[str, tuple[int, int]]:
    """Per policy of a score_generations run: (answers that stopped at the token limit,
    answers scored)."""
    at_limit = func.sum(func.cast(Generation.finish_reason == "length", Integer))
    rows = session.execute(
        select(Generation.policy, at_limit, func.count())
        .join(GenerationScore, GenerationScore.generation_id == Generation.id)
        .where(GenerationScore.run_id == run_id)
        .group_by(Generation.policy)
    ).all()
    return {policy: (int(cut or 0), int(n)) for policy, cut, n in rows}


def pair_cut(cuts: dict[str, tuple[int, int]], a: str, b: str) -> tuple[int, int]:
    ca, cb = cuts.get(a, (0, 0)), cuts.get(b, (0, 0))
    return ca[0] + cb[0], ca[1] + cb[1]


def generation_headlines(session: Session, run_id: int) -> list[dict[str, Any]]:
    """One win-rate headline per comparison of a score_generations run."""
    run = scored_run(session, run_id)
    s = generation_summary(session, run_id)
    untrained = head_initialized(run)
    out = []
    for c in s["comparisons"]:
        pa, pb = s["policies"].get(c["a"]) or {}, s["policies"].get(c["b"]) or {}
        cut = (
            int(pa.get("cut_at_limit") or 0) + int(pb.get("cut_at_limit") or 0),
            int(pa.get("n") or 0) + int(pb.get("n") or 0),
        )
        rate = win_rates(c["wins"], c["ties"], c["losses"])["win_rate"]
        out.append(win_rate_headline(c["a"], c["b"], rate, cut, untrained))
    return out


def run_headlines(session: Session, run_id: int) -> list[dict[str, Any]]:
    """The headline(s) of a score or score_generations run."""
    run = scored_run(session, run_id)
    if run.kind == "score":
        return [score_headline(session, run_id)]
    return generation_headlines(session, run_id)
