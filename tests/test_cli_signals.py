"""Process-level behaviour of the command line, run as real processes: SIGTERM to
``preflens dashboard`` stops its Streamlit child, and output piped into a reader that
stops early (``| head -1``) ends quietly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil

from tests.conftest import REPO
from tests.dashboard.conftest import free_port


def _env(tmp_path) -> dict[str, str]:
    env = dict(os.environ, PREFLENS_DATA_DIR=str(tmp_path / "data"), HF_HUB_OFFLINE="1")
    env["PYTHONPATH"] = str(REPO)
    return env


def test_sigterm_to_the_dashboard_stops_its_streamlit_child(tmp_path):
    port = free_port()
    parent = subprocess.Popen(
        [sys.executable, "-m", "preflens", "dashboard", "--port", str(port)],
        cwd=REPO,
        env=_env(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        children: list[psutil.Process] = []
        while time.monotonic() < deadline and not children:
            children = psutil.Process(parent.pid).children(recursive=True)
            time.sleep(0.2)
        assert children, "no Streamlit child started"
        time.sleep(1.0)  # the child is up; the parent's handlers are in place
        family = psutil.Process(parent.pid).children(recursive=True)
        parent.send_signal(signal.SIGTERM)
        assert parent.wait(timeout=20) == 128 + signal.SIGTERM
        _, alive = psutil.wait_procs(family, timeout=10)
        assert alive == []
    finally:
        if parent.poll() is None:
            parent.kill()


def test_a_closed_pipe_ends_quietly(tmp_path):
    """``preflens runs | head -c 1``: the reader goes away; no BrokenPipeError traceback."""
    from tests.factories import trl_rows, write_jsonl

    env = _env(tmp_path)
    data = write_jsonl(tmp_path / "toy.jsonl", trl_rows(3))
    subprocess.run([sys.executable, "-m", "preflens", "ingest", str(data), "--name", "toy"],
                   cwd=REPO, env=env, check=True, capture_output=True)  # fmt: skip
    for argv in ("datasets", "runs", "--help", "export --help"):
        # a slow reader that takes one byte: the writer meets a closed pipe
        cmd = f"{sys.executable} -m preflens {argv} | (head -c 1 >/dev/null)"
        done = subprocess.run(
            ["bash", "-c", cmd], cwd=REPO, env=env, capture_output=True, text=True
        )
        assert "Traceback" not in done.stderr and "Broken" not in done.stderr, (argv, done.stderr)
