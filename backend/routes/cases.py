"""Case search and one case in full."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query

from backend.deps import SessionDep, SettingsDep
from backend.errors import LimitError
from backend.examples import example
from backend.schemas import Case, CasePage
from db import read
from db.lookup import MAX_ID
from preflens.errors import QueryError

router = APIRouter(prefix="/v1", tags=["cases"])


@router.get(
    "/cases",
    summary="Search a run's cases",
    response_model=CasePage,
    response_model_exclude_unset=True,
    responses=example("cases"),
)
def search(
    session: SessionDep,
    settings: SettingsDep,
    run: Annotated[int, Query(ge=0, le=MAX_ID, description="a score or score_generations run")],
    min_gap: Annotated[float | None, Query(allow_inf_nan=False, description="gap >= this")] = None,
    max_gap: Annotated[float | None, Query(allow_inf_nan=False, description="gap <= this")] = None,
    category: str | None = None,
    split: str | None = None,
    q: Annotated[
        str | None,
        Query(max_length=500, description="words that must all occur in the prompt or a response"),
    ] = None,
    sort: Annotated[
        Literal["gap_desc", "gap_asc", "abs_gap", "suspicion"],
        Query(
            description="gap descending, ascending, closest to zero (ties) first, or "
            "suspicion (score runs: most likely mislabelled first, as the suspects route)"
        ),
    ] = "gap_desc",
    limit: Annotated[int, Query(ge=1, description="page size, up to max_page_size")] = 50,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    a: Annotated[str | None, Query(description="score_generations run: policy A")] = None,
    b: Annotated[str | None, Query(description="score_generations run: policy B")] = None,
    cut: Annotated[
        bool, Query(description="only cases with a response or answer cut at a length limit")
    ] = False,
    against: Annotated[
        int | None, Query(ge=0, le=MAX_ID, description="with flip: the other score run (a)")
    ] = None,
    flip: Annotated[
        Literal["wrong_to_right", "right_to_wrong"] | None,
        Query(description="with against: pairs whose verdict flips from run a to this run"),
    ] = None,
    disagree: Annotated[
        int | None,
        Query(
            ge=0,
            le=MAX_ID,
            description="a score_dpo run: pairs where its implicit reward and this run "
            "prefer different responses",
        ),
    ] = None,
    cluster: Annotated[
        int | None,
        Query(
            ge=-1,
            le=MAX_ID,
            description="a score run: pairs in this cluster of its map (-1: unclustered)",
        ),
    ] = None,
    pairs: Annotated[
        str | None,
        Query(
            max_length=12_000,
            pattern=r"^\d+(,\d+)*$",
            description="comma-separated pair ids: exactly these pairs (at most 500)",
        ),
    ] = None,
) -> dict[str, Any]:
    """A page of cases whose gap lies in [min_gap, max_gap], in `sort` order (equal keys
    by pair id). A score run's cases are its pairs, gap = chosen - rejected; a
    score_generations run's cases are prompts both `a` and `b` answered, gap = A - B
    (default: the run's first comparison). Pass `next_cursor` back as `cursor` for the
    next page; it is null on the last page. Pages stay correct while rows are added: a
    cursor resumes after the last case returned. Texts are 200-character previews;
    `GET /v1/cases/{pair_id}` returns one case in full. Text search matches whole words
    on SQLite (full-text index), substrings elsewhere. `total` counts every match (all
    pages); `max_gap=0` lists exactly the pairs counted wrong (a gap of 0 is wrong),
    `cut=true` those cut at a length limit, `against=A&flip=...` those that flip,
    `disagree=D` those where score_dpo run D's implicit reward prefers the other side,
    `cluster=C` those in cluster C of the run's map (`GET /v1/runs/{id}/map`),
    `pairs=12,7,30` exactly those pairs. `sort=suspicion` (score runs) orders the pairs
    as `GET /v1/datasets/{dataset}/suspects` ranks the run's dataset and adds each
    one's `suspicion` and `signals`."""
    if limit > settings.max_page_size:
        raise LimitError(
            f"limit is {limit}; the limit is max_page_size={settings.max_page_size} "
            "(PREFLENS_MAX_PAGE_SIZE)"
        )
    return read.search_cases(
        session,
        run,
        min_gap=min_gap,
        max_gap=max_gap,
        category=category,
        split=split,
        q=q,
        sort=sort,
        limit=limit,
        cursor=cursor,
        a=a,
        b=b,
        cut=cut,
        against=against,
        flip=flip,
        disagree=disagree,
        cluster=cluster,
        pair_ids=_pair_ids(pairs),
    )


def _pair_ids(pairs: str | None) -> list[int] | None:
    """The ids of ``pairs=12,7,30``, each bounded like any id the store holds."""
    if pairs is None:
        return None
    ids = [int(p) for p in pairs.split(",")]
    if any(i > MAX_ID for i in ids):
        raise QueryError(f"pairs: an id is above {MAX_ID}")
    return ids


@router.get(
    "/cases/{pair_id}",
    summary="One case in full",
    response_model=Case,
    response_model_exclude_unset=True,
    responses=example("case"),
)
def case(
    session: SessionDep,
    pair_id: Annotated[int, Path(ge=0, le=MAX_ID, description="the pair id of a case")],
    run: Annotated[int, Query(ge=0, le=MAX_ID, description="the run the scores come from")],
    a: str | None = None,
    b: str | None = None,
) -> dict[str, Any]:
    """The pair (prompt messages, chosen and rejected in full) and its scores in the run;
    for a score_generations run every policy's answer with its score, and the A - B gap;
    `flag`: the pair's flag (label, note, set_by, updated_at) or null."""
    return read.get_case(session, run, pair_id, a, b)
