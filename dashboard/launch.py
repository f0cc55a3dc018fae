"""Start the Streamlit app (``dashboard/app.py``) as a server in a child process,
``python -m streamlit run dashboard/app.py`` with the host, port and backend URL given.
``start_dashboard`` starts that process and returns it (``preflens dashboard``, the
demo and the browser test use it). Nothing heavy is imported here."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

APP = Path(__file__).resolve().parent / "app.py"
ERROR_DETAILS = "none"  # client.showErrorDetails: full | stacktrace | type | none


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
        # No stack traces (with server paths) in the browser: "none" shows Streamlit's
        # generic line and logs the details. ("false" is a legacy value that still shows
        # the trace; app.py also sets this and catches errors around every page.)
        "--client.showErrorDetails",
        ERROR_DETAILS,
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
