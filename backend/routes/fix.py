"""Fix the data: flags on pairs (the API's one write path into the store, behind the API
key when one is set), likely mislabelled pairs of a dataset, and a run's slices with
Holm and Benjamini-Hochberg corrected p-values."""

from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from sqlalchemy.orm import Session, sessionmaker

from backend.deps import SessionDep, SettingsDep
from backend.examples import example
from backend.schemas.fix import Flag, FlagList, FlagRequest, Slices, Suspects
from db import flags as flag_store
from db.lookup import MAX_ID
from db.read.slices import run_slices
from db.read.suspects import MAX_SUSPECTS, suspects
from db.session import make_engine, writing
from preflens.slices import ALPHA

router = APIRouter(prefix="/v1", tags=["fix"])
PairId = Annotated[int, Path(ge=0, le=MAX_ID, description="a pair id")]
_writer_lock = threading.Lock()


def _writer(request: Request) -> sessionmaker[Session]:
    """The write sessionmaker, made on the first flag write: readers keep their read-only
    connections, and only these routes can change the store (one engine per app)."""
    state = request.app.state
    with _writer_lock:
        if getattr(state, "flag_writer", None) is None:
            settings = state.settings
            engine = make_engine(
                settings.resolved_database_url,
                busy_timeout_ms=settings.sqlite_busy_timeout_ms,
            )
            state.flag_writer = sessionmaker(engine, expire_on_commit=False)
        return state.flag_writer


@router.get(
    "/flags", summary="Flags set on pairs", response_model=FlagList, responses=example("flags")
)
def list_flags(
    session: SessionDep,
    dataset: Annotated[str | None, Query(description="only this dataset's pairs")] = None,
    label: Annotated[list[str] | None, Query(description="only these labels (repeat)")] = None,
    limit: Annotated[int, Query(ge=1, le=flag_store.MAX_FLAGS)] = 1000,
) -> dict[str, Any]:
    """Flags, newest first, each with who set it and when."""
    return {"flags": flag_store.list_flags(session, dataset, label, limit)}


@router.get(
    "/pairs/{pair_id}/flag",
    summary="One pair's flag",
    response_model=Flag | None,
    responses=example("flag"),
)
def get_flag(session: SessionDep, pair_id: PairId) -> dict[str, Any] | None:
    """The pair's flag, or null when it has none."""
    return flag_store.get_flag(session, pair_id)


@router.put(
    "/pairs/{pair_id}/flag",
    summary="Set a pair's flag",
    response_model=Flag,
    responses=example("flag_put"),
)
def put_flag(
    request: Request, settings: SettingsDep, pair_id: PairId, body: FlagRequest
) -> dict[str, Any]:
    """Set or replace the pair's flag; it records `PREFLENS_API_KEY_NAME` as who set it.
    When the server has an API key, this needs it like every other route."""
    with writing(_writer(request)) as session:
        return flag_store.set_flag(session, pair_id, body.label, body.note, settings.api_key_name)


@router.delete(
    "/pairs/{pair_id}/flag",
    summary="Remove a pair's flag",
    response_model=Flag | None,
    responses=example("flag_delete"),
)
def delete_flag(request: Request, pair_id: PairId) -> dict[str, Any] | None:
    """Remove the pair's flag; returns the removed flag, or null when it had none."""
    with writing(_writer(request)) as session:
        old = flag_store.get_flag(session, pair_id)
        flag_store.clear_flag(session, pair_id)
        return old


@router.get(
    "/datasets/{dataset}/suspects",
    summary="Likely mislabelled pairs of a dataset",
    response_model=Suspects,
    response_model_exclude_unset=True,
    responses=example("suspects"),
)
def dataset_suspects(
    session: SessionDep,
    dataset: str,
    run: Annotated[
        list[int] | None,
        Query(max_length=50, description="signal runs (repeat; default: every finished one)"),
    ] = None,
    split: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_SUSPECTS)] = 50,
    min_signals: Annotated[int, Query(ge=1)] = 1,
) -> dict[str, Any]:
    """Pairs ranked by suspicion: the mean over signals (score runs with their fitted
    temperature, score_dpo runs' implicit-reward margins) of the probability that the
    labelled-rejected response is the better one; ties by more signals, then pair id."""
    return suspects(session, dataset, run, split, limit, min_signals)


@router.get(
    "/runs/{run_id}/slices",
    summary="A score run's slices with corrected p-values",
    response_model=Slices,
    response_model_exclude_unset=True,
    responses=example("slices"),
)
def slices(
    session: SessionDep,
    run_id: Annotated[int, Path(ge=0, le=MAX_ID)],
    against: Annotated[
        int | None, Query(ge=0, le=MAX_ID, description="a score run on the same pairs (a)")
    ] = None,
    alpha: Annotated[float, Query(gt=0, lt=1)] = ALPHA,
) -> dict[str, Any]:
    """Per category, split, length-difference bin and (when the run has a map) cluster:
    accuracy (Wilson 95%), difference from the overall accuracy, Fisher exact p of the
    slice vs the rest, Holm and Benjamini-Hochberg adjusted p-values over all slices.
    With `against`: per slice, both accuracies, B - A and the exact McNemar p."""
    return run_slices(session, run_id, against, alpha)
