"""Serve ``backend.app.create_app`` in one uvicorn process (``preflens serve`` and the
demo call ``serve``). fastapi, uvicorn and torch load inside it."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from preflens.config import get_settings

log = logging.getLogger("preflens")


def serve(
    *,
    rm: str | None,
    policies: Mapping[str, str] | None = None,
    host: str | None = None,
    port: int | None = None,
    head_seed: int | None = None,
    max_length: int | None = None,
) -> int:
    """Migrate the store, then serve until interrupted (also for ``preflens demo``).
    ``max_length``: conversation tokens per live score (default: ``score_max_length``)."""
    import uvicorn

    from backend.app import create_app
    from db.migrate import upgrade

    settings = get_settings()
    update: dict = {"api_rm": rm or "none", "api_policies": dict(policies or {})}
    if host is not None:
        update["api_host"] = host
    if port is not None:
        update["api_port"] = port
    if head_seed is not None:
        update["api_head_seed"] = head_seed
    if max_length is not None:
        update["score_max_length"] = max_length
    settings = settings.model_copy(update=update)
    upgrade(settings.resolved_database_url)  # the API reads read-only: the schema must exist
    _check_models(settings)
    if settings.num_threads:
        import torch

        torch.set_num_threads(settings.num_threads)
    if settings.api_host not in ("127.0.0.1", "localhost", "::1") and not settings.api_key:
        log.warning("serving on %s without an API key (set PREFLENS_API_KEY)", settings.api_host)
    app = create_app(settings)
    # One process, one worker: the models live in this process (one per GPU).
    # The server refuses a long request head with a plain-text 400 before the app sees
    # it (httptools at about 64 KiB of URL, h11 at its head limit). With h11 and a 1 MiB
    # head limit the app itself answers a long query string: 414 with the JSON body.
    head_limit = max(1024 * 1024, 2 * settings.max_query_chars + 64 * 1024)
    uvicorn.run(
        app,
        host=settings.api_host,
        port=settings.api_port,
        workers=1,
        http="h11",
        h11_max_incomplete_event_size=head_limit,
    )
    return 0


def _check_models(settings) -> None:  # noqa: ANN001 - Settings
    """Find (and check) every model the server will load before the server starts, so a
    missing or damaged checkpoint is a one-line error, not a failed start-up inside
    uvicorn."""
    from backend.services import wanted_rm
    from training.fetch import resolve_model

    spec = wanted_rm(settings)
    for model in ([spec] if spec else []) + list(settings.api_policies.values()):
        resolve_model(model)
