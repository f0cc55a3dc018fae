"""Diagnostics of runs: uncertainty, length control, calibration, paired comparisons,
confidently-wrong pairs and label-noise candidates (the JSON twin of ``preflens
diagnose`` and the dashboard's Diagnostics page)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from backend.deps import SessionDep
from backend.examples import example
from backend.schemas.diagnostics import (
    Comparable,
    ConfidentlyWrong,
    Diagnostics,
    Headline,
    LabelNoise,
    Paired,
)
from db.lookup import MAX_ID
from db.read import compare, headlines
from db.read import diagnostics as diag

router = APIRouter(prefix="/v1", tags=["diagnostics"])


RunId = Annotated[int, Path(ge=0, le=MAX_ID, description="a run id (`GET /v1/runs` lists them)")]
Seed = Annotated[int, Query(ge=0, le=2**32 - 1, description="seed of the bootstrap")]
Resamples = Annotated[int, Query(ge=1000, le=10_000, description="bootstrap resamples")]


@router.get(
    "/runs/{run_id}/diagnostics",
    summary="Uncertainty, length control and calibration of a run",
    response_model=Diagnostics,
    response_model_exclude_unset=True,
    responses=example("diagnostics"),
)
def run_diagnostics(
    session: SessionDep, run_id: RunId, b: Resamples = 2000, seed: Seed = 0
) -> dict[str, Any]:
    """A score run: accuracy (Wilson 95%), AUC and mean gap (bootstrap 95%), accuracy per
    category and split, length control (accuracy when chosen is longer / shorter / equal,
    the longer-wins and shorter-wins baselines, length-balanced accuracy, Spearman of gap
    against length difference, accuracy by length-difference bin) and calibration
    (reliability bins, ECE, Brier, NLL, cross-fitted temperature). A score_generations
    run: per comparison the mean difference, win rates, sign test and length-controlled
    win rate. A gap of exactly 0 counts as wrong."""
    return diag.run_diagnostics(session, run_id, b=b, seed=seed)


@router.get(
    "/runs/{run_id}/comparable",
    summary="Score runs a run can be compared with, and its default partner",
    response_model=Comparable,
    responses=example("comparable"),
)
def comparable(session: SessionDep, run_id: RunId) -> dict[str, Any]:
    """The score runs on the same pairs as this one (same dataset and split), its
    before/after partner first; `partner` is the other half of a `train-rm` run's
    before/after pair (the default comparison), or null."""
    return compare.comparison_options(session, run_id)


@router.get(
    "/runs/{run_id}/headlines",
    summary="A run's headline numbers with 95% intervals and verdict badges",
    response_model=list[Headline],
    responses=example("headlines"),
)
def run_headlines(session: SessionDep, run_id: RunId) -> list[dict[str, Any]]:
    """A score run: accuracy (Wilson 95%) judged against chance and the better length
    baseline on the same pairs; a score_generations run: each comparison's win rate
    (Wilson, ties half) with the answers cut at the token limit. `verdicts` lists any of
    "below chance", "not different from chance", "below the length baseline", "untrained
    head", "most answers cut"; the dashboard's tiles show these same values."""
    return headlines.run_headlines(session, run_id)


@router.get(
    "/runs/{run_a}/paired/{run_b}",
    summary="Two score runs on the same pairs",
    response_model=Paired,
    response_model_exclude_unset=True,
    responses={
        **example("paired"),
        409: {"description": "the two runs scored different pairs"},
    },
)
def paired(
    session: SessionDep, run_a: RunId, run_b: RunId, b: Resamples = 2000, seed: Seed = 0
) -> dict[str, Any]:
    """Run b against run a on the pairs both scored: both accuracies, the difference
    (b - a) with a paired bootstrap interval, the exact McNemar p-value, the flipped pairs
    (ids capped at 200 per direction), Kendall's tau-b and Spearman between the gaps.
    Pairs scored by only one run are left out and counted under `left_out`. Runs that
    scored different pairs (another dataset or split) are refused with 409, the message
    naming both datasets; `GET /v1/runs/{run_id}/comparable` lists the runs that fit."""
    return diag.paired(session, run_a, run_b, b=b, seed=seed)


@router.get(
    "/runs/{run_id}/confidently-wrong",
    summary="Pairs a score run gets wrong most confidently",
    response_model=ConfidentlyWrong,
    response_model_exclude_unset=True,
    responses=example("confidently_wrong"),
)
def confidently_wrong(
    session: SessionDep,
    run_id: RunId,
    limit: Annotated[int, Query(ge=1, le=diag.paired_module.MAX_CASES)] = 20,
) -> dict[str, Any]:
    """Pairs with gap <= 0, most negative gap first, with text previews
    (`GET /v1/cases/{pair_id}` has the full texts)."""
    return {"run_id": run_id, "cases": diag.confidently_wrong(session, run_id, limit)}


@router.get(
    "/label-noise",
    summary="Pairs several score runs agree are mislabelled",
    response_model=LabelNoise,
    response_model_exclude_unset=True,
    responses=example("label_noise"),
)
def label_noise(
    session: SessionDep,
    run: Annotated[
        list[int],
        Query(min_length=1, max_length=20, description="score runs (repeat: run=1&run=2)"),
    ],
    min_agree: Annotated[
        int | None, Query(ge=1, description="runs that must prefer rejected (default: all)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=diag.paired_module.MAX_CASES)] = 50,
) -> dict[str, Any]:
    """Pairs where at least `min_agree` of the runs give the rejected response the higher
    score (gap < 0; a tie is no vote), most votes first, then most negative mean gap.
    Runs on other pairs than the first run's are refused with 409, naming both datasets."""
    return diag.label_noise_candidates(session, run, min_agree, limit)
