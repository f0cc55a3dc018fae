"""One writer and eight API readers on one SQLite store, for a fixed time.

A score job (the tiny random model, batch size 1, so it commits all the time) writes the
store in its own process while eight client threads read it through a real `preflens
serve` on loopback (run list, one run, its summary, a histogram, a page of cases). The
record: requests, errors (any non-200, any "database is locked"), read latency p50 / p95
/ max, and rows the writer committed meanwhile.

    .venv/bin/python -m bench.writer_readers --seconds 30 --out bench/results/writer_readers.json
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

from bench.record import save_result
from bench.serving import free_port, wait_healthy

REPO = Path(__file__).resolve().parents[1]


def _cli(env: dict[str, str], *args: str, **popen: object) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "preflens", *args],
        cwd=REPO,
        env=env,
        **popen,  # type: ignore[arg-type]
    )


def _rows(work: Path) -> int:
    import sqlite3

    with sqlite3.connect(work / "data" / "preflens.db") as con:
        return con.execute("SELECT count(*) FROM pair_score").fetchone()[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--readers", type=int, default=8)
    parser.add_argument("--pairs", type=int, default=3000, help="pairs the writer scores")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)

    sys.path.insert(0, str(REPO))
    from tests.factories import make_tiny_lm_dir, trl_rows, write_jsonl

    work = Path(tempfile.mkdtemp(prefix="preflens-wr-"))
    env = {**os.environ, "PREFLENS_DATA_DIR": str(work / "data"), "HF_HUB_OFFLINE": "1"}
    env.pop("PREFLENS_DATABASE_URL", None)
    model = make_tiny_lm_dir(work / "tiny")
    data = write_jsonl(work / "w.jsonl", trl_rows(args.pairs))
    subprocess.run(
        [sys.executable, "-m", "preflens", "ingest", str(data), "--split", "test"],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
    )
    port = free_port()
    server = _cli(
        env,
        "serve",
        "--rm",
        "none",
        "--port",
        str(port),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    wait_healthy(server, base)
    writer = _cli(
        env,
        "score",
        "--model",
        str(model),
        "--dataset",
        "w",
        "--batch-size",
        "1",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    # Readers start once the writer is committing (its run exists and has rows).
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        r = httpx.get(base + "/v1/runs/1", timeout=5)
        if r.status_code == 200 and r.json()["progress"] > 0:
            break
        assert writer.poll() is None, writer.communicate()[1][-2000:]
        time.sleep(0.5)
    rows_before = _rows(work)
    latencies: list[float] = []
    errors: list[str] = []
    stop = time.monotonic() + args.seconds
    lock = threading.Lock()

    def reader(k: int) -> None:
        with httpx.Client(base_url=base, timeout=30) as http:
            i = 0
            while time.monotonic() < stop:
                paths = [
                    "/v1/runs",
                    "/v1/runs/1",
                    "/v1/runs/1/summary",
                    "/v1/runs/1/histogram?side=gap&bins=20",
                    "/v1/cases?run=1&limit=20",
                ]
                path = paths[(i + k) % len(paths)]
                t0 = time.perf_counter()
                r = http.get(path)
                dt = time.perf_counter() - t0
                with lock:
                    latencies.append(dt)
                    if r.status_code != 200 or "locked" in r.text:
                        errors.append(f"{path} {r.status_code} {r.text[:120]}")
                i += 1

    threads = [threading.Thread(target=reader, args=(k,)) for k in range(args.readers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.terminate()
    _, werr = writer.communicate(timeout=60)
    server.terminate()
    _, serr = server.communicate(timeout=60)
    lat = np.array(latencies) * 1000
    written = _rows(work) - rows_before
    locked = ("database is locked" in (werr or b"").decode(errors="replace")) or (
        "database is locked" in (serr or b"").decode(errors="replace")
    )
    result = {
        "seconds": args.seconds,
        "readers": args.readers,
        "requests": int(len(lat)),
        "errors": len(errors),
        "error_examples": errors[:5],
        "database_is_locked_in_logs": locked,
        "read_ms_p50": float(np.percentile(lat, 50)) if len(lat) else None,
        "read_ms_p95": float(np.percentile(lat, 95)) if len(lat) else None,
        "read_ms_max": float(lat.max()) if len(lat) else None,
        "rows_written_meanwhile": int(written),
    }
    print(save_result(args.out, benchmark="writer_readers", **result))
    return 0 if not errors and not locked else 1


if __name__ == "__main__":
    sys.exit(main())
