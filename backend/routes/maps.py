"""A score run's stored map (``preflens map``): the JSON twin of the Map page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from backend.deps import SessionDep
from backend.examples import example
from backend.schemas.maps import RunMapOut
from db.lookup import MAX_ID
from db.read.maps import MAX_MAP_POINTS, map_view

router = APIRouter(prefix="/v1", tags=["diagnostics"])

RunId = Annotated[int, Path(ge=0, le=MAX_ID, description="a run id (`GET /v1/runs` lists them)")]


@router.get(
    "/runs/{run_id}/map",
    summary="A score run's map: points in 2D and named clusters, worst first",
    response_model=RunMapOut,
    responses={
        **example("map"),
        404: {"description": "no such run, or the run has no map yet"},
    },
)
def run_map(
    session: SessionDep,
    run_id: RunId,
    max_points: Annotated[
        int, Query(ge=1, le=MAX_MAP_POINTS, description="points returned at most")
    ] = MAX_MAP_POINTS,
) -> dict[str, Any]:
    """The map `preflens map RUN` stored: what was mapped and how, the clusters (name from
    c-TF-IDF over prompts, n, accuracy with its Wilson 95% interval, gap mean, share of
    chosen-longer pairs; worst accuracy first) and the points (`pair_id`, `x`, `y`,
    `cluster`, `correct`, `gap`, a prompt preview), a seeded sample when the run has more
    than `max_points`. 404 until the run is mapped."""
    return map_view(session, run_id, max_points)
