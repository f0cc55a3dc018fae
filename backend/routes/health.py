"""Liveness, readiness and what this server has loaded."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from backend.deps import SettingsDep
from backend.examples import example
from backend.schemas import Health, Models, Readiness

router = APIRouter(tags=["health"])


@router.get(
    "/healthz",
    summary="The process is alive",
    response_model=Health,
    responses=example("healthz"),
)
def healthz() -> dict[str, str]:
    """Always 200 while the process runs (no key needed, no database or model touched)."""
    return {"status": "ok"}


def _models(request: Request) -> dict[str, Any]:
    reward = request.app.state.reward
    return {
        "reward_model": reward.describe() if reward else None,
        "policies": request.app.state.generation.describe(),
    }


def _database(request: Request) -> dict[str, Any]:
    maker = request.app.state.sessionmaker
    if maker is None:
        return {"ok": False, "error": "not opened yet"}
    try:
        with maker() as session:
            session.execute(text("SELECT count(*) FROM run")).scalar()
    except Exception as exc:  # readiness reports any failure to reach the store
        return {"ok": False, "error": f"{type(exc).__name__}: store unreachable or not migrated"}
    return {"ok": True}


@router.get(
    "/readyz",
    summary="Models loaded and database reachable",
    response_model=Readiness,
    responses={**example("readyz"), 503: {"description": "not ready (same body)"}},
)
def readyz(request: Request) -> JSONResponse:
    """200 when the start-up finished loading the models and the store answers a query;
    503 otherwise, with what is missing."""
    database = _database(request)
    loaded = bool(request.app.state.models_loaded)
    ready = loaded and database["ok"]
    reward = request.app.state.reward
    body = {
        "status": "ready" if ready else "not_ready",
        "models_loaded": loaded,
        "database": database,
        **_models(request),
        "batcher": {
            "batches": reward.batcher.batches,
            "forward_passes": reward.forward_passes,
            "items_scored": reward.batcher.items_scored,
        }
        if reward
        else None,
    }
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get(
    "/v1/models",
    summary="Loaded models and request limits",
    response_model=Models,
    response_model_exclude_unset=True,
    responses=example("models"),
)
def models(request: Request, settings: SettingsDep) -> dict[str, Any]:
    """The reward model and policies this server loaded, and the limits requests must
    keep to (all set by PREFLENS_* settings)."""
    return {
        **_models(request),
        "limits": {
            "max_body_bytes": settings.max_body_bytes,
            "max_text_chars": settings.max_text_chars,
            "max_prompt_chars": settings.max_prompt_chars,
            "max_batch_items": settings.max_batch_items,
            "max_policies": settings.max_policies,
            "max_new_tokens_limit": settings.max_new_tokens_limit,
            "max_page_size": settings.max_page_size,
            "max_query_chars": settings.max_query_chars,
            "score_max_length": settings.score_max_length,
        },
    }
