"""``preflens serve``: one uvicorn process serving ``backend.app.create_app``.

Nothing heavy is imported here at import time (``preflens --help`` stays instant):
fastapi, uvicorn and torch load inside ``cmd_serve``.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Mapping

from preflens.cli_jobs import parse_policies
from preflens.config import get_settings

log = logging.getLogger("preflens")


def add_serve_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``preflens serve`` on the top-level subparsers."""
    s = get_settings()
    p = subparsers.add_parser(
        "serve",
        help="serve the HTTP API: live scoring, comparison, generation, the store as JSON",
        description="Start one uvicorn process with the reward model and policies loaded "
        "once; OpenAPI docs at /docs. Limits, API key and CORS come from PREFLENS_* settings.",
    )
    p.add_argument(
        "--rm",
        default=s.api_rm or "none",
        metavar="MODEL",
        help="reward model: checkpoint folder, .gguf file, hub id or alias; 'none' for no "
        "scoring (default: %(default)s)",
    )
    p.add_argument(
        "--policy",
        action="append",
        metavar="NAME=MODEL",
        help="a policy for /v1/generate, by name; repeatable",
    )
    p.add_argument("--host", default=s.api_host, help="address to bind (default: %(default)s)")
    p.add_argument("--port", type=int, default=s.api_port, help="port (default: %(default)s)")
    p.add_argument(
        "--head-seed",
        type=int,
        default=s.api_head_seed,
        help="seed for the score head of a checkpoint that has none (default: %(default)s)",
    )
    p.set_defaults(func=cmd_serve)


def serve(
    *,
    rm: str | None,
    policies: Mapping[str, str] | None = None,
    host: str | None = None,
    port: int | None = None,
    head_seed: int | None = None,
) -> int:
    """Migrate the store, then serve until interrupted (also for ``preflens demo``)."""
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
    settings = settings.model_copy(update=update)
    upgrade(settings.resolved_database_url)  # the API reads read-only: the schema must exist
    if settings.num_threads:
        import torch

        torch.set_num_threads(settings.num_threads)
    if settings.api_host not in ("127.0.0.1", "localhost", "::1") and not settings.api_key:
        log.warning("serving on %s without an API key (set PREFLENS_API_KEY)", settings.api_host)
    app = create_app(settings)
    # One process, one worker: the models live in this process (one per GPU).
    uvicorn.run(app, host=settings.api_host, port=settings.api_port, workers=1)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    return serve(
        rm=args.rm,
        policies=parse_policies(args.policy),
        host=args.host,
        port=args.port,
        head_seed=args.head_seed,
    )
