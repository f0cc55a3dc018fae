"""``preflens dashboard``: run the Streamlit app (``dashboard/app.py``) as a server.

Nothing heavy is imported here (``preflens --help`` stays instant): Streamlit runs in a
child process, ``python -m streamlit run dashboard/app.py`` with the host, port and
backend URL given. ``start_dashboard`` starts that process and returns it (the demo
and the browser test use it).
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from preflens.config import get_settings

log = logging.getLogger("preflens")
APP = Path(__file__).resolve().parent / "app.py"


def add_dashboard_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``preflens dashboard`` on the top-level subparsers."""
    s = get_settings()
    p = subparsers.add_parser(
        "dashboard",
        help="serve the web dashboard: distributions, training curves, policies, cases",
        description="Start the Streamlit dashboard over the store (read-only). Live scoring "
        "calls the backend (`preflens serve`) at --api-url.",
    )
    p.add_argument(
        "--host", default=s.dashboard_host, help="address to bind (default: %(default)s)"
    )
    p.add_argument("--port", type=int, default=s.dashboard_port, help="port (default: %(default)s)")
    p.add_argument(
        "--api-url",
        default=s.dashboard_api_url,
        metavar="URL",
        help="the backend for live scoring (default: %(default)s)",
    )
    p.set_defaults(func=cmd_dashboard)


def streamlit_command(host: str, port: int) -> list[str]:
    """The ``streamlit run`` command line for the app."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        # No "Deploy" / developer menu: this is a tool's UI, not an app being developed.
        "--client.toolbarMode",
        "viewer",
    ]


def dashboard_env(api_url: str, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The child's environment: ours, plus the backend URL and the repository on the
    Python path (so ``import dashboard`` works without an installed package)."""
    env = dict(os.environ if base is None else base)
    env["PREFLENS_DASHBOARD_API_URL"] = api_url
    root = str(APP.parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


def start_dashboard(host: str, port: int, api_url: str, **popen: object) -> subprocess.Popen:
    """Start the dashboard server in a child process and return it (not waiting for it to
    listen: poll ``http://HOST:PORT/_stcore/health``). ``popen`` goes to ``Popen``."""
    env = popen.pop("env", None)
    return subprocess.Popen(
        streamlit_command(host, port),
        env=dashboard_env(api_url, env),  # type: ignore[arg-type]
        **popen,  # type: ignore[arg-type]
    )


def cmd_dashboard(args: argparse.Namespace) -> int:
    """Serve until interrupted; the exit code is Streamlit's."""
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("the dashboard on %s shows the whole store to anyone who reaches it", args.host)
    log.info("dashboard on http://%s:%s (backend: %s)", args.host, args.port, args.api_url)
    proc = start_dashboard(args.host, args.port, args.api_url)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        return 130
