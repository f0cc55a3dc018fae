"""``preflens serve`` (the HTTP API) and ``preflens dashboard`` (the web dashboard)."""

from __future__ import annotations

import argparse
import logging

from preflens.cli.commands.base import Command
from preflens.cli.options import int_at_least, parse_policies
from preflens.config import get_settings

log = logging.getLogger("preflens")
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class ServeCommand(Command):
    name = "serve"
    help = "serve the HTTP API: live scoring, comparison, generation, the store as JSON"
    description = (
        "Start one uvicorn process with the reward model and policies loaded once; OpenAPI "
        "docs at /docs. Limits, API key and CORS come from PREFLENS_* settings."
    )

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        s = get_settings()
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
        p.add_argument(
            "--max-length",
            type=_max_length,
            default=s.score_max_length,
            metavar="N",
            help="conversation tokens (as scored) per live score; a longer conversation keeps "
            "its end. Use a run's max length to compare live scores with it (default: "
            "%(default)s, PREFLENS_SCORE_MAX_LENGTH)",
        )

    def run(self, args: argparse.Namespace) -> int:
        from backend.server import serve

        return serve(
            rm=args.rm,
            policies=parse_policies(args.policy),
            host=args.host,
            port=args.port,
            head_seed=args.head_seed,
            max_length=args.max_length,
        )


_max_length = int_at_least(8, "use at least 8 tokens")


class DashboardCommand(Command):
    name = "dashboard"
    help = "serve the web dashboard: distributions, training curves, policies, cases"
    description = (
        "Start the Streamlit dashboard over the store (read-only). Live scoring calls the "
        "backend (`preflens serve`) at --api-url."
    )

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        s = get_settings()
        p.add_argument(
            "--host", default=s.dashboard_host, help="address to bind (default: %(default)s)"
        )
        p.add_argument(
            "--port", type=int, default=s.dashboard_port, help="port (default: %(default)s)"
        )
        p.add_argument(
            "--api-url",
            default=s.dashboard_api_url,
            metavar="URL",
            help="the backend for live scoring (default: %(default)s)",
        )

    def run(self, args: argparse.Namespace) -> int:
        """Serve until stopped (Ctrl-C, SIGTERM, SIGHUP stop the Streamlit child too); the
        exit code is Streamlit's, or 128 + the signal's number."""
        from dashboard.launch import run_dashboard

        if args.host not in LOOPBACK:
            log.warning(
                "the dashboard on %s shows the whole store to anyone who reaches it", args.host
            )
        log.info("dashboard on http://%s:%s (backend: %s)", args.host, args.port, args.api_url)
        return run_dashboard(args.host, args.port, args.api_url)
