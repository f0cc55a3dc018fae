"""Starting a PrefLens server for a benchmark: a free loopback port, and waiting until the
server answers ``/healthz`` (or stopping it and saying so)."""

from __future__ import annotations

import socket
import subprocess
import time

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(proc: subprocess.Popen, url: str, timeout_s: float = 300.0) -> None:
    """Return once ``url``/healthz answers 200; kill ``proc`` and raise if it never does."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"the server at {url} did not start within {timeout_s:.0f} s")
