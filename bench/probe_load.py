"""Load test of the user-shaped routes at their documented limits: concurrent worst-case
``POST /v1/probe`` (custom edits: a backtracking regex, a growth edit, twenty valid edits of
maximum-length texts) and ``POST /v1/score`` with per-token values at the token budget,
against a real uvicorn server on loopback, while ``/healthz`` is polled.

Recorded: every answer's status (each must be 2xx or 4xx), the p50/p95/max latency of
``/healthz`` during the load (goal: p95 <= 200 ms), and the server's resident memory
before, at its peak and a few seconds after. Bounded: ``--requests`` requests, at most
``--timeout`` seconds, then the server is stopped.

    python -m bench.probe_load --model PATH --requests 50 --out bench/results/probe_load.json
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil

from bench.record import save_result
from bench.serving import free_port, wait_healthy

ROOT = Path(__file__).resolve().parents[1]
MAX_TEXT = 20_000  # PREFLENS_MAX_TEXT_CHARS default
MAX_EDITS = 20  # backend.routes.probes.MAX_CUSTOM_EDITS
PER_TOKEN_ITEMS = 8  # x score_max_length 512 tokens = the 4,096-token budget


def probe_bodies() -> list[dict]:
    """Three worst cases: a backtracking pattern, an edit that would grow a text to
    hundreds of MB, and twenty valid edits of maximum-length texts (scored: a 200)."""
    words = ("lorem ipsum dolor sit amet " * (MAX_TEXT // 27))[:MAX_TEXT]
    redos = {"name": "redos", "op": "regex", "pattern": "(a|aa)+$", "replacement": ""}
    grow = {"name": "grow", "op": "replace", "old": "a", "new": "b" * 10_000}
    valid = [
        {"name": f"e{i}", "op": "regex", "pattern": f"(\\w+) {w}", "replacement": "\\1!"}
        for i, w in enumerate(["ipsum", "dolor", "sit", "amet", "lorem"] * 4)
    ][:MAX_EDITS]
    return [
        {
            "prompt": "p",
            "chosen": "a" * 40 + "!",
            "rejected": "r",
            "edits": [],
            "custom_edits": [redos] * 1 + valid[: MAX_EDITS - 1],
        },  # fmt: skip
        {
            "prompt": "p",
            "chosen": "a" * MAX_TEXT,
            "rejected": "r",
            "edits": [],
            "custom_edits": [grow],
        },  # fmt: skip
        {
            "prompt": "p",
            "chosen": words,
            "rejected": words[::-1],
            "edits": [],
            "custom_edits": valid,
        },  # fmt: skip
    ]


def per_token_bodies() -> list[dict]:
    """At the budget (8 items cut to 512 tokens: a 200) and just over it (a 422)."""
    text = ("the quick brown fox jumps over the lazy dog " * 500)[:MAX_TEXT]
    item = {"prompt": "Say it.", "response": text, "per_token": True}
    return [{"items": [item] * PER_TOKEN_ITEMS}, {"items": [item] * (PER_TOKEN_ITEMS + 1)}]


def serve(model: str, data_dir: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "PREFLENS_DATA_DIR": data_dir, "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "preflens.cli.main", "serve", "--rm", model, "--port", str(port)]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    wait_healthy(proc, url)
    return proc, url


def poll(url: str, stop: threading.Event, out: list[float]) -> None:
    with httpx.Client(timeout=30) as client:
        while not stop.is_set():
            started = time.monotonic()
            client.get(f"{url}/healthz")
            out.append(time.monotonic() - started)
            time.sleep(0.05)


def watch_rss(pid: int, stop: threading.Event, out: list[int]) -> None:
    proc = psutil.Process(pid)
    while not stop.is_set():
        out.append(proc.memory_info().rss)
        time.sleep(0.05)


def run(model: str, requests: int, timeout_s: float, mix: str = "all") -> dict:
    bodies = [("/v1/probe", b) for b in probe_bodies()] if mix == "all" else []
    bodies += [("/v1/score", b) for b in per_token_bodies()]
    work = [bodies[i % len(bodies)] for i in range(requests)]
    with tempfile.TemporaryDirectory() as data_dir:
        proc, url = serve(model, data_dir)
        try:
            warm = httpx.post(f"{url}/v1/score", json={"prompt": "p", "response": "r"}, timeout=60)
            warm.raise_for_status()
            time.sleep(1.0)
            baseline = psutil.Process(proc.pid).memory_info().rss
            stop = threading.Event()
            health: list[float] = []
            rss: list[int] = []
            threads = [
                threading.Thread(target=poll, args=(url, stop, health), daemon=True),
                threading.Thread(target=watch_rss, args=(proc.pid, stop, rss), daemon=True),
            ]
            for t in threads:
                t.start()
            started = time.monotonic()

            def send(job: tuple[str, dict]) -> tuple[str, int, float]:
                path, body = job
                t0 = time.monotonic()
                try:
                    status = httpx.post(f"{url}{path}", json=body, timeout=timeout_s).status_code
                except httpx.TimeoutException:
                    status = 0  # no answer in time: counted as a failure
                return path, status, time.monotonic() - t0

            with ThreadPoolExecutor(max_workers=requests) as pool:
                answers = list(pool.map(send, work))
            seconds = time.monotonic() - started
            time.sleep(3.0)  # the load is over: how far does memory come back?
            stop.set()
            for t in threads:
                t.join(timeout=5)
            after = psutil.Process(proc.pid).memory_info().rss
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    statuses: dict[str, dict[str, int]] = {}
    for path, status, _ in answers:
        per = statuses.setdefault(path, {})
        per[str(status)] = per.get(str(status), 0) + 1
    ordered = sorted(health)
    mb = 1 / 2**20
    return {
        "model": model,
        "mix": mix,
        "requests": requests,
        "seconds": round(seconds, 2),
        "statuses": statuses,
        "all_2xx_or_4xx": all(200 <= s < 500 for _, s, _ in answers),
        "request_seconds_max": round(max(t for *_, t in answers), 2),
        "healthz": {
            "polls": len(ordered),
            "p50_ms": round(1000 * statistics.median(ordered), 1),
            "p95_ms": round(1000 * ordered[int(0.95 * (len(ordered) - 1))], 1),
            "max_ms": round(1000 * ordered[-1], 1),
            "goal_p95_ms": 200,
        },
        "rss_mb": {
            "baseline": round(baseline * mb, 1),
            "peak": round(max(rss or [baseline]) * mb, 1),
            "after_3_s": round(after * mb, 1),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="reward model the server loads")
    parser.add_argument("--requests", type=int, default=50, help="concurrent requests")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per request")
    parser.add_argument(
        "--mix", choices=("all", "per-token"), default="all", help="request kinds to send"
    )
    parser.add_argument("--out", type=Path, help="JSON file for the result")
    args = parser.parse_args()
    result = save_result(args.out, **run(args.model, args.requests, args.timeout, args.mix))
    print(result)


if __name__ == "__main__":
    main()
