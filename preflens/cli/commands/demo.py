"""``preflens demo``: the whole pipeline on the embedded model and the demo set, then the
API and the dashboard with the trained models."""

from __future__ import annotations

import argparse

from preflens.cli.commands.base import Command, open_store, set_threads
from preflens.cli.output import out, print_demo_header, print_demo_step
from preflens.config import EMBEDDED_MODEL_ALIAS, get_settings


class DemoCommand(Command):
    name = "demo"
    help = "run the demo pipeline on the embedded model and demo data"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--no-serve", action="store_true", help="stop after the summaries (for scripted use)"
        )

    def run(self, args: argparse.Namespace) -> int:
        from training.jobs.demo import run_demo

        set_threads()
        last = None
        # Each header is printed as its step begins, then the step's results when it ends.
        for step in run_demo(open_store(), on_start=print_demo_header):
            print_demo_step(step, header=False)
            last = step
        if args.no_serve:
            return 0
        from backend.server import serve
        from dashboard.launch import start_dashboard
        from training.jobs.demo import MAX_LENGTH

        paths = last.result["paths"]
        s = get_settings()
        out(
            f"serving the trained RM and both policies at http://{s.api_host}:{s.api_port} "
            f"(API docs at /docs); Ctrl-C stops"
        )
        api_url = f"http://{s.api_host}:{s.api_port}"
        dash = start_dashboard(s.dashboard_host, s.dashboard_port, api_url)
        out(f"dashboard at http://{s.dashboard_host}:{s.dashboard_port}")
        try:
            # The demo's runs were scored at MAX_LENGTH: live scores use the same length.
            return serve(
                rm=paths["rm"],
                policies={"base": EMBEDDED_MODEL_ALIAS, "dpo": paths["dpo"]},
                max_length=MAX_LENGTH,
            )
        finally:
            dash.terminate()
            dash.wait(timeout=10)
