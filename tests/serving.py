"""`preflens serve` as a real uvicorn process on a free loopback port, for the tests that
talk to it over HTTP."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.conftest import REPO


@contextmanager
def preflens_serve(args: list[str], env: dict[str, str]) -> Iterator[str]:
    """``preflens serve ARGS`` on 127.0.0.1, port 0 (the server picks a free one, read from
    its log line); yields its URL and stops it with SIGINT on exit."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "preflens", "serve", *args, "--host", "127.0.0.1", "--port", "0"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline, url, lines = time.monotonic() + 180, None, []
    while url is None and time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line and proc.poll() is not None:
            break
        lines.append(line)
        found = re.search(r"Uvicorn running on (http://127\.0\.0\.1:\d+)", line)
        url = found.group(1) if found else None
    try:
        if url is None:
            proc.kill()
            pytest.fail("server did not start:\n" + "".join(lines[-30:]))
        yield url
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stderr.close()
