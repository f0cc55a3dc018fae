"""Over training and over sampling: a training run's checkpoint series and a best-of-N
run's curves (the JSON twins of the Over training page and ``preflens diagnose``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from backend.deps import SessionDep
from backend.examples import example
from backend.schemas.over import BestOfN, Series
from db.lookup import MAX_ID
from db.read import series as series_read

router = APIRouter(prefix="/v1", tags=["diagnostics"])

RunId = Annotated[int, Path(ge=0, le=MAX_ID, description="a run id (`GET /v1/runs` lists them)")]
Seed = Annotated[int, Query(ge=0, le=2**32 - 1, description="seed of the bootstrap")]
Resamples = Annotated[int, Query(ge=1000, le=10_000, description="bootstrap resamples")]
PairIds = Annotated[
    list[Annotated[int, Query(ge=0, le=MAX_ID)]] | None,
    Query(max_length=200, description="pairs whose gap trajectories to return"),
]


@router.get(
    "/runs/{run_id}/series",
    summary="A training run's checkpoint series: per-step accuracy, learned and forgotten",
    response_model=Series,
    responses=example("series"),
)
def run_series(
    session: SessionDep,
    run_id: RunId,
    pair: PairIds = None,
    b: Resamples = 2000,
    seed: Seed = 0,
) -> dict[str, Any]:
    """The score runs of a `train-rm --eval-every` run (or of a `score --model A --model
    B` series), step 0 being the untrained head: per step accuracy (Wilson 95%), AUC and
    mean gap (bootstrap 95%) and ECE; each step against the previous (pairs learned and
    forgotten, paired bootstrap difference, exact McNemar); the best step against the
    last; pairs that flip more than once; gap trajectories of the `pair` ids (default:
    the first oscillating pairs). Only pairs every step scored count; a gap of 0 is
    wrong. A run that is not a training or series run is a 422."""
    return series_read.series(session, run_id, pair_ids=pair, b=b, seed=seed)


@router.get(
    "/runs/{run_id}/bon",
    summary="Best-of-N curves: proxy and gold reward and length against k",
    response_model=BestOfN,
    responses=example("bon"),
)
def run_bon(session: SessionDep, run_id: RunId, b: Resamples = 2000, seed: Seed = 0) -> dict:
    """A `preflens bon` run: for k = 1, 2, 4, ..., N the expected proxy score, gold
    score (when a gold RM was given) and length in generated tokens of the proxy's
    best-of-k answer, over every k-subset of the N samples (unbiased; proxy ties picked
    at random), mean over prompts with bootstrap 95% intervals; the analytic KL log k -
    (k-1)/k; and the k where the gold score peaks."""
    from db.read import bon

    return bon.bon_summary(session, run_id, b=b, seed=seed)
