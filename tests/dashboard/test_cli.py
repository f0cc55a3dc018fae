"""`preflens dashboard`: its options, the streamlit command it runs and its environment."""

from __future__ import annotations

import subprocess
import sys

from dashboard.launch import APP, dashboard_env, streamlit_command
from preflens.cli.main import build_parser
from tests.conftest import REPO


def test_dashboard_help_lists_its_options():
    out = subprocess.run(
        [sys.executable, "-m", "preflens", "dashboard", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0
    for option in ("--host", "--port", "--api-url"):
        assert option in out.stdout


def test_defaults_come_from_settings(monkeypatch):
    from preflens.config import get_settings

    args = build_parser().parse_args(["dashboard"])
    assert (args.host, args.port, args.api_url) == ("127.0.0.1", 8501, "http://127.0.0.1:8000")
    monkeypatch.setenv("PREFLENS_DASHBOARD_PORT", "9000")
    monkeypatch.setenv("PREFLENS_DASHBOARD_API_URL", "http://api:8000")
    get_settings.cache_clear()
    args = build_parser().parse_args(["dashboard"])
    assert (args.port, args.api_url) == (9000, "http://api:8000")


def test_streamlit_command_and_environment():
    cmd = streamlit_command("0.0.0.0", 8600)
    assert cmd[:5] == [sys.executable, "-m", "streamlit", "run", str(APP)]
    flags = dict(zip(cmd[5::2], cmd[6::2], strict=True))
    assert flags["--server.address"] == "0.0.0.0" and flags["--server.port"] == "8600"
    assert flags["--server.headless"] == "true"
    assert flags["--browser.gatherUsageStats"] == "false"
    env = dashboard_env("http://api:8000", {"PYTHONPATH": "/x", "HOME": "/h"})
    assert env["PREFLENS_DASHBOARD_API_URL"] == "http://api:8000" and env["HOME"] == "/h"
    assert env["PYTHONPATH"].split(":") == [str(REPO), "/x"]


def test_the_command_line_does_not_import_streamlit():
    code = (
        "import sys; from preflens.cli.main import build_parser; build_parser(); "
        "sys.exit(1 if 'streamlit' in sys.modules else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO).returncode == 0
