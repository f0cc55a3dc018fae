"""Start the Streamlit app (``dashboard/app.py``) as a server in a child process,
``python -m streamlit run dashboard/app.py`` with the host, port and backend URL given.
``start_dashboard`` starts that process and returns it (the demo and the browser tests
use it); ``run_dashboard`` serves until the child ends or this process is told to stop
(``preflens dashboard``). Nothing heavy is imported here."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

APP = Path(__file__).resolve().parent / "app.py"
ERROR_DETAILS = "none"  # client.showErrorDetails: full | stacktrace | type | none
ACCENT = "#4a5568"  # dashboard.palette.ACCENT (not imported: this module stays bare)


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
        # The widgets' accent colour: neutral (red means "rejected" on every chart).
        "--theme.primaryColor",
        ACCENT,
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


STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
STOP_WAIT_S = 10.0


def stop_dashboard(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """Send ``sig`` to the child's whole process group (Streamlit and anything it
    started), wait up to ``STOP_WAIT_S``, then kill the group."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=STOP_WAIT_S)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def run_dashboard(host: str, port: int, api_url: str) -> int:
    """Serve the dashboard until its child ends or this process gets SIGTERM, SIGHUP or
    SIGINT; the signal is forwarded to the child's process group, so no Streamlit server
    is left behind. Returns the child's exit code, or 128 + the signal's number."""
    proc = start_dashboard(host, port, api_url, start_new_session=True)
    received: list[tuple[int, float]] = []

    def forward(signum: int, _frame: object) -> None:
        # Only signal here: waiting inside a handler would re-enter Popen.wait.
        received.append((signum, time.monotonic()))
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass

    previous = {sig: signal.signal(sig, forward) for sig in STOP_SIGNALS}
    try:
        while True:
            try:
                code = proc.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                if received and time.monotonic() - received[0][1] > STOP_WAIT_S:
                    stop_dashboard(proc, signal.SIGKILL)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        stop_dashboard(proc)  # whatever happened above, the child does not outlive us
    return 128 + received[0][0] if received else code
