"""The diagnostics endpoint at scale: ``GET /v1/runs/{id}/diagnostics`` on a score run of N
pairs (response lengths stored, as the score job stores them), uncached: a new app
(new engine, no connection, no application cache) per timed call; SQLite's page cache
starts empty, the OS file cache is warm after the build. Also times the pieces
(one read of the run's columns; the statistics) by calling ``db.read.diagnostics``.

    .venv/bin/python -m bench.diagnostics_at_scale --pairs 10000 100000 1000000 \\
        --out bench/results/diagnostics_at_scale.json
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import insert
from sqlalchemy.orm import Session

from bench.record import save_result
from bench.scale_store import scale_store
from db import read
from db.read import diagnostics as diag
from db.runs import finish_run
from db.schema import Pair, PairScore
from db.session import make_engine

log = logging.getLogger("bench.diagnostics_at_scale")
CATEGORIES = ("safety", "helpfulness", "factuality", "coding", "style")
CHUNK = 50_000


def build(url: str, n: int, seed: int = 0) -> tuple[int, float]:
    """An empty store filled with ``n`` pairs and one done score run; (run id, seconds)."""
    start = time.perf_counter()
    make, ds_id, (run_id,) = scale_store(
        url, [{"kind": "score", "key": "scale", "status": "running", "total": n}]
    )
    rng = np.random.default_rng(seed)
    for lo in range(0, n, CHUNK):
        ids = range(lo, min(lo + CHUNK, n))
        m = len(ids)
        chars_c, chars_r = rng.integers(50, 3000, m), rng.integers(50, 3000, m)
        # An RM that likes length a little: the gap grows with the length difference.
        gap = rng.normal(0.3, 1.0, m) + (chars_c - chars_r) / 3000
        chosen = rng.normal(0.5, 1.0, m)
        pairs = [
            {
                "dataset_id": ds_id,
                "split": "test" if i % 5 == 0 else "train",
                "source_row": i + 1,
                "prompt": [{"role": "user", "content": f"Question {i}?"}],
                "prompt_text": f"user: Question {i}?",
                "chosen": f"A careful answer {i}.",
                "rejected": f"A short reply {i}.",
                "category": CATEGORIES[i % len(CATEGORIES)],
                "content_hash": hashlib.sha256(str(i).encode()).hexdigest(),
            }
            for i in ids
        ]
        with make() as s:
            pids = (
                s.execute(insert(Pair).returning(Pair.id, sort_by_parameter_order=True), pairs)
                .scalars()
                .all()
            )
            s.execute(
                insert(PairScore),
                [
                    {
                        "run_id": run_id,
                        "pair_id": pids[k],
                        "category": CATEGORIES[i % len(CATEGORIES)],
                        "split": "test" if i % 5 == 0 else "train",
                        "score_chosen": float(chosen[k]),
                        "score_rejected": float(chosen[k] - gap[k]),
                        "gap": float(gap[k]),
                        "tokens_chosen": 400,
                        "tokens_rejected": 300,
                        "chars_chosen": int(chars_c[k]),
                        "chars_rejected": int(chars_r[k]),
                        "response_tokens_chosen": int(chars_c[k] // 4),
                        "response_tokens_rejected": int(chars_r[k] // 4),
                    }
                    for k, i in enumerate(ids)
                ],
            )
            s.commit()
        log.info("built %d / %d pairs", min(lo + CHUNK, n), n)
    # Finished as a real job finishes it (db.runs.finish_run): the summary, the sorted
    # value series and the aligned columns the diagnostics read are stored once here.
    with make() as s:
        finish_run(s, run_id, read.score_summary(s, run_id))
        s.commit()
    return run_id, time.perf_counter() - start


def time_endpoint(url: str, run_id: int) -> tuple[float, dict[str, Any]]:
    """One uncached call of the endpoint through a fresh app and TestClient."""
    from fastapi.testclient import TestClient

    from backend.app import create_app
    from preflens.config import Settings

    app = create_app(Settings(database_url=url, api_rm="", api_policies={}), policies={})
    with TestClient(app) as client:
        start = time.perf_counter()
        r = client.get(f"/v1/runs/{run_id}/diagnostics")
        seconds = time.perf_counter() - start
    r.raise_for_status()
    return seconds, r.json()


def time_parts(url: str, run_id: int) -> dict[str, float]:
    """The read of the run's columns and the whole read function, on new connections."""
    out = {}
    with Session(make_engine(url, readonly=True)) as s:
        start = time.perf_counter()
        diag.score_columns(s, run_id)
        out["read_columns_s"] = round(time.perf_counter() - start, 3)
    with Session(make_engine(url, readonly=True)) as s:
        start = time.perf_counter()
        diag.run_diagnostics(s, run_id)
        out["run_diagnostics_s"] = round(time.perf_counter() - start, 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--dir", type=Path, default=Path(".preflens/bench"))
    parser.add_argument("--out", type=Path)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    rows = []
    for n in args.pairs:
        path = args.dir / f"diagnostics_{n}.db"
        url = f"sqlite:///{path.resolve()}"
        if path.exists():
            run_id, build_s = 1, 0.0
        else:
            args.dir.mkdir(parents=True, exist_ok=True)
            run_id, build_s = build(url, n)
        times, body = [], {}
        for _ in range(args.repeats):
            seconds, body = time_endpoint(url, run_id)
            times.append(round(seconds, 3))
        row = {
            "pairs": n,
            "build_s": round(build_s, 1),
            "endpoint_s": times,
            "endpoint_median_s": float(np.median(times)),
            **time_parts(url, run_id),
            "auc_method": body["auc"]["method"],
            "accuracy": body["accuracy"],
        }
        log.info("%s", row)
        rows.append(row)
    save_result(args.out, benchmark="diagnostics_at_scale", goal_s=2.0, rows=rows)


if __name__ == "__main__":
    main()
