"""Read routes: datasets, runs, summaries, distributions and training metrics: the JSON
twin of the dashboard. Each is a plain ``def`` (run in the thread pool) over one
read-only session and one ``db.read`` function, so the dashboard's numbers match."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import Field

from backend.deps import SessionDep
from backend.errors import ApiError
from backend.examples import example
from backend.schemas import (
    BoxStats,
    Cdf,
    CheckpointInfo,
    DatasetDetail,
    DatasetInfo,
    Histogram,
    Metrics,
    Percentile,
    RunInfo,
    RunSummary,
    Scatter,
)
from db import read
from db.lookup import MAX_ID

# Every route serializes with exclude_unset: a key the read function left out (e.g.
# `policy` of a score run's histogram) stays out, so the JSON is db.read's result.
router = APIRouter(prefix="/v1", tags=["data"])
HIST_BOUND = 1e300  # |min|, |max| of a histogram range: max - min stays finite

RunId = Annotated[int, Path(ge=0, le=MAX_ID, description="a run id (`GET /v1/runs` lists them)")]
RunIdItem = Annotated[int, Field(ge=0, le=MAX_ID)]
Side = Annotated[
    str,
    Query(
        description="score run: chosen, rejected or gap (chosen - rejected); "
        "score_generations run: score (with policy=) or gap (a - b)"
    ),
]
Policy = Annotated[str | None, Query(description="score_generations run, side=score: a policy")]
PolicyA = Annotated[str | None, Query(description="comparison: policy A (default: first)")]
PolicyB = Annotated[str | None, Query(description="comparison: policy B")]


@router.get(
    "/datasets",
    summary="Datasets with counts",
    response_model=list[DatasetInfo],
    response_model_exclude_unset=True,
    responses=example("datasets"),
)
def datasets(session: SessionDep) -> list[dict[str, Any]]:
    """Every dataset: pairs per split and per category, rejected rows per reason."""
    return read.list_datasets(session)


@router.get(
    "/datasets/{dataset}",
    summary="One dataset",
    response_model=DatasetDetail,
    response_model_exclude_unset=True,
    responses=example("dataset"),
)
def dataset(
    session: SessionDep, dataset: Annotated[str, Path(description="name or id")]
) -> dict[str, Any]:
    """One dataset (by name or id) with its counts and its first rejected rows."""
    return read.get_dataset(session, dataset)


@router.get(
    "/runs",
    summary="Runs with status and progress",
    response_model=list[RunInfo],
    response_model_exclude_unset=True,
    responses=example("runs"),
)
def runs(
    session: SessionDep,
    kind: Annotated[str | None, Query(description="score, train_rm, generate, ...")] = None,
    status: Annotated[str | None, Query(description="pending, running, done, failed")] = None,
    dataset: Annotated[str | None, Query(description="dataset name or id")] = None,
) -> list[dict[str, Any]]:
    """Runs, oldest first: kind, status, progress (0-1), dataset, split, model, config,
    the stored summary and the error of a failed run."""
    return read.list_runs(session, kind, status, dataset)


@router.get(
    "/runs/{run_id}",
    summary="One run",
    response_model=RunInfo,
    response_model_exclude_unset=True,
    responses=example("run"),
)
def run(session: SessionDep, run_id: RunId) -> dict[str, Any]:
    """One run as in `GET /v1/runs`."""
    return read.get_run(session, run_id)


@router.get(
    "/runs/{run_id}/summary",
    summary="A run's summary",
    response_model=RunSummary,
    response_model_exclude_unset=True,
    responses=example("summary"),
)
def summary(
    session: SessionDep,
    run_id: RunId,
    tie_margin: Annotated[
        float | None,
        Query(
            ge=0, allow_inf_nan=False, description="generation comparisons: |A - B| <= this ties"
        ),
    ] = None,
) -> dict[str, Any]:
    """Computed live from the run's rows. Score run: accuracy, reward mean and std,
    chosen / rejected / gap means, truncated responses, and per category.
    score_generations run: per policy n, mean, std, mean characters and tokens, cut at
    the limit, Pearson and Spearman length-score correlation; per comparison mean
    difference, wins / ties / losses and win rate. Training run: per metric its last
    value, min and max."""
    return read.run_summary(session, run_id, tie_margin)


@router.get(
    "/runs/{run_id}/histogram",
    summary="Histogram",
    response_model=Histogram,
    response_model_exclude_unset=True,
    responses=example("histogram"),
)
def histogram(
    session: SessionDep,
    run_id: RunId,
    side: Side = "gap",
    bins: Annotated[int, Query(ge=1, le=1000)] = 30,
    lo: Annotated[
        float | None,
        Query(
            alias="min",
            ge=-HIST_BOUND,
            le=HIST_BOUND,
            allow_inf_nan=False,
            description="range start",
        ),
    ] = None,
    hi: Annotated[
        float | None,
        Query(
            alias="max", ge=-HIST_BOUND, le=HIST_BOUND, allow_inf_nan=False, description="range end"
        ),
    ] = None,
    policy: Policy = None,
    a: PolicyA = None,
    b: PolicyB = None,
) -> dict[str, Any]:
    """Counts in `bins` equal bins over [min, max] (default: the data's range); the last
    bin includes `max`; values outside are counted in `below` / `above`."""
    if lo is not None and hi is not None and hi > lo and not (hi - lo) / bins > 0:
        raise ApiError(422, f"range [{lo}, {hi}] is too narrow for {bins} bins", "invalid_range")
    return read.histogram(session, run_id, side, bins, lo, hi, policy=policy, a=a, b=b)


@router.get(
    "/runs/{run_id}/cdf",
    summary="Empirical CDF points",
    response_model=Cdf,
    response_model_exclude_unset=True,
    responses=example("cdf"),
)
def cdf(
    session: SessionDep,
    run_id: RunId,
    side: Side = "gap",
    points: Annotated[int, Query(ge=2, le=2000)] = 200,
    policy: Policy = None,
    a: PolicyA = None,
    b: PolicyB = None,
) -> dict[str, Any]:
    """Up to `points` points (x, p), p = share of values <= x, at ranks spread evenly
    from the smallest value to the largest."""
    return read.cdf(session, run_id, side, points, policy=policy, a=a, b=b)


@router.get(
    "/runs/{run_id}/box",
    summary="Box-plot statistics",
    response_model=BoxStats,
    response_model_exclude_unset=True,
    responses=example("box"),
)
def box(
    session: SessionDep,
    run_id: RunId,
    side: Side = "gap",
    policy: Policy = None,
    a: PolicyA = None,
    b: PolicyB = None,
) -> dict[str, Any]:
    """What the dashboard's box plots draw: n, mean, std (population), min, max, the
    quartiles (interpolated between ranks, as numpy.quantile), Tukey whiskers (the most
    extreme values within 1.5 IQR of the box) and the count of values beyond them."""
    return read.box_stats(session, run_id, side, policy=policy, a=a, b=b)


@router.get(
    "/runs/{run_id}/percentile",
    summary="Percentile of a score",
    response_model=Percentile,
    response_model_exclude_unset=True,
    responses=example("percentile"),
)
def percentile(
    session: SessionDep,
    run_id: RunId,
    score: Annotated[float, Query(allow_inf_nan=False, description="a reward score")],
    policy: Policy = None,
) -> dict[str, Any]:
    """Where `score` falls among the run's scores (0-100, ties counting half): both
    sides of a score run, every answer (or one policy's) of a score_generations run."""
    value = read.score_percentile(session, run_id, score, policy)
    return {"run_id": run_id, "score": score, "policy": policy, "percentile": value}


@router.get(
    "/runs/{run_id}/scatter",
    summary="Policy A vs B score per prompt",
    response_model=Scatter,
    response_model_exclude_unset=True,
    responses=example("scatter"),
)
def scatter(
    session: SessionDep, run_id: RunId, a: PolicyA = None, b: PolicyB = None
) -> dict[str, Any]:
    """A score_generations run: per prompt both policies answered, score_A and score_B,
    tokens, characters and finish reasons of both answers, and the category."""
    return read.generation_scatter(session, run_id, a, b)


@router.get(
    "/checkpoints",
    summary="Checkpoints",
    response_model=list[CheckpointInfo],
    response_model_exclude_unset=True,
    responses=example("checkpoints"),
)
def checkpoints(session: SessionDep) -> list[dict[str, Any]]:
    """Checkpoints, oldest first: name, kind (base, rm, policy), base model, when it was
    made and the runs that made or used it; server paths are cut to their last part."""
    return read.list_checkpoints(session)


@router.get(
    "/metrics",
    summary="Training metrics per step",
    response_model=Metrics,
    response_model_exclude_unset=True,
    responses=example("metrics"),
)
def metrics(
    session: SessionDep,
    run: Annotated[list[RunIdItem], Query(description="run id; repeat for several runs")],
    name: Annotated[
        list[str] | None, Query(description="metric name, e.g. train/loss; repeatable")
    ] = None,
) -> dict[str, Any]:
    """Per run, each metric's steps and values in step order (all metrics unless named)."""
    return read.metrics(session, run, name)
