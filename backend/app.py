"""The app factory: ``create_app(settings)`` builds the FastAPI app; its lifespan opens
the store read-only and loads the checkpoints once (on the GPU when there is one).

Run it with ``preflens serve`` (one uvicorn process, one worker: the models live in
this process). Tests pass tiny preloaded models through ``reward_model=`` /
``policies=``, or override the dependencies in ``backend.deps``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from sqlalchemy.orm import sessionmaker

from backend.errors import install_error_handlers
from backend.middleware import (
    OPEN_PATHS,
    ApiKeyMiddleware,
    BodySizeLimitMiddleware,
    QueryStringLimitMiddleware,
    UnexpectedErrorMiddleware,
)
from backend.routes import cases, compute, data, diagnostics, fix, health, maps, over, probes
from backend.schemas.errors import ErrorBody
from backend.services import GenerationService, RewardService, load_policies, load_reward
from db.session import is_sqlite, make_engine
from preflens.config import Settings, get_settings
from training.loading import Policy, RewardModel

log = logging.getLogger(__name__)

DESCRIPTION = """\
Live scoring, comparison and generation with the checkpoints this server loaded, and
the JSON twin of every number the PrefLens dashboard shows.

Errors are JSON: `{"status", "error", "detail"}`. When the server has an API key, send
`Authorization: Bearer <key>` on every call but `/healthz`.
"""


def create_app(
    settings: Settings | None = None,
    *,
    reward_model: RewardModel | None = None,
    policies: Mapping[str, Policy] | None = None,
) -> FastAPI:
    """Build the app. Models are loaded in the lifespan from ``settings.api_rm`` and
    ``settings.api_policies`` unless given here already loaded."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        url = settings.resolved_database_url
        # Readers get read-only SQLite connections: the API can never write the store.
        engine = make_engine(
            url, readonly=is_sqlite(url), busy_timeout_ms=settings.sqlite_busy_timeout_ms
        )
        app.state.sessionmaker = sessionmaker(engine, expire_on_commit=False)
        rm = reward_model
        if rm is None:
            rm = await anyio.to_thread.run_sync(load_reward, settings)
        if policies is None:
            served = await anyio.to_thread.run_sync(load_policies, settings)
        else:
            served = dict(policies)
        if rm is not None:
            app.state.reward = RewardService(
                rm,
                max_length=settings.score_max_length,
                max_batch=settings.batch_max_size,
                wait_ms=settings.batch_wait_ms,
                max_pending=settings.batch_max_pending,
            )
            await app.state.reward.batcher.start()
        app.state.generation = GenerationService(served)
        app.state.models_loaded = True
        log.info(
            "ready: reward model %s, policies %s",
            app.state.reward.name if app.state.reward else "none",
            ", ".join(app.state.generation.names) or "none",
        )
        try:
            yield
        finally:
            if app.state.reward is not None:
                await app.state.reward.batcher.stop()
            engine.dispose()
            writer = getattr(app.state, "flag_writer", None)  # made by the first flag write
            if writer is not None:
                writer.kw["bind"].dispose()
                app.state.flag_writer = None

    app = FastAPI(
        title="PrefLens API",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_tags=[
            {"name": "health", "description": "liveness and readiness"},
            {"name": "compute", "description": "score, compare and generate with loaded models"},
            {"name": "data", "description": "datasets, runs, summaries and distributions"},
            {"name": "cases", "description": "search and read cases of a run"},
            {"name": "probes", "description": "counterfactual edits and DPO per pair"},
            {"name": "fix", "description": "flags on pairs, likely mislabelled pairs, slices"},
        ],
    )
    app.state.settings = settings
    app.state.reward = None
    app.state.generation = GenerationService({})
    app.state.sessionmaker = None
    app.state.models_loaded = False
    install_error_handlers(app)
    for module in (health, compute, data, cases, diagnostics, maps, over, probes, fix):
        app.include_router(module.router)

    # Added innermost first: CORS (when on) answers preflights before the key check;
    # the unexpected-error catch wraps everything but CORS (so a 500 carries CORS headers).
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    if settings.api_key:
        app.add_middleware(ApiKeyMiddleware, api_key=settings.api_key)
    app.add_middleware(QueryStringLimitMiddleware, max_chars=settings.max_query_chars)
    app.add_middleware(UnexpectedErrorMiddleware)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.openapi = lambda: _openapi(app, bool(settings.api_key))  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI, with_key: bool) -> dict[str, Any]:
    """The OpenAPI document; with a key configured it declares bearer auth."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
        )
        _document_errors(schema)
        if with_key:
            schema.setdefault("components", {})["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer"}
            }
            schema["security"] = [{"bearer": []}]
            for path in OPEN_PATHS:
                for operation in schema["paths"].get(path, {}).values():
                    operation["security"] = []
        app.openapi_schema = schema
    return app.openapi_schema


def _document_errors(schema: dict[str, Any]) -> None:
    """Replace FastAPI's default 422 schema (a list of pydantic errors) with the body
    this API really sends, ``ErrorBody``, and document it as every operation's 4xx."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    error_schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(error_schema.pop("$defs", {}))
    components["ErrorBody"] = error_schema
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    for operations in schema["paths"].values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if "422" in responses:
                responses["422"] = {"description": "invalid request", "content": body}
            responses["4XX"] = {"description": "error (the same JSON shape)", "content": body}
