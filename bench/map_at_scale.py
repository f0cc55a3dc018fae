"""``preflens map`` at scale: a store of N scored pairs with kept states (synthetic:
eight prompt topics, each a centre in the 64-dim state space, the RM wrong more often on
some), then the map job once (read states, project, cluster, name, store) and the Map
page's read (``db.read.maps.map_view``: clusters and a 5,000-point sample): on a new
engine each time (median of 5) and on one kept engine as the dashboard holds it (median
of 5 after a first call).

    .venv/bin/python -m bench.map_at_scale --pairs 100000 --out bench/results/map_at_scale.json
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import insert
from sqlalchemy.orm import sessionmaker

from bench.record import save_result
from bench.scale_store import scale_store
from db.read.maps import map_view
from db.schema import Pair, PairScore, PairState
from db.session import make_engine
from preflens import states

log = logging.getLogger("bench.map_at_scale")
TOPICS = (
    "bread oven yeast",
    "income tax return",
    "python list sort",
    "knee injury pain",
    "wedding speech toast",
    "car engine oil",
    "garden tomato soil",
    "poem rhyme meter",
)
CHUNK = 20_000


def build(url: str, n: int, seed: int = 0) -> int:
    """An empty store filled with ``n`` scored pairs with kept states; the run id."""
    make, ds_id, (run_id,) = scale_store(
        url, [{"kind": "score", "key": "scale", "status": "done", "total": n}]
    )
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 1, (len(TOPICS), 64))
    accuracy = np.linspace(0.45, 0.95, len(TOPICS))
    for lo in range(0, n, CHUNK):
        ids = range(lo + 1, min(lo + CHUNK, n) + 1)
        topic = rng.integers(0, len(TOPICS), len(ids))
        right = rng.random(len(ids)) < accuracy[topic]
        gap = np.where(right, 1, -1) * rng.exponential(1.0, len(ids))
        with make() as s:
            s.execute(
                insert(Pair),
                [
                    {
                        "id": i,
                        "dataset_id": ds_id,
                        "split": "test",
                        "source_row": i,
                        "prompt": [],
                        "prompt_text": f"question {i} about {TOPICS[t]} and more {TOPICS[t]}",
                        "chosen": "c",
                        "rejected": "r",
                        "content_hash": f"h{i}",
                    }
                    for i, t in zip(ids, topic, strict=True)
                ],
            )
            s.execute(
                insert(PairScore),
                [
                    {
                        "run_id": run_id,
                        "pair_id": i,
                        "split": "test",
                        "score_chosen": float(g),
                        "score_rejected": 0.0,
                        "gap": float(g),
                        "chars_chosen": int(rng.integers(50, 2000)),
                        "chars_rejected": int(rng.integers(50, 2000)),
                    }
                    for i, g in zip(ids, gap, strict=True)
                ],
            )
            vec = centres[topic][:, None, :] + rng.normal(0, 0.5, (len(ids), 3, 64))
            s.execute(
                insert(PairState),
                [
                    {
                        "run_id": run_id,
                        "pair_id": i,
                        "prompt": states.pack(v[0]),
                        "chosen": states.pack(v[1]),
                        "rejected": states.pack(v[2]),
                    }
                    for i, v in zip(ids, vec, strict=True)
                ],
            )
            s.commit()
    return run_id


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    from training.jobs.map_pairs import run_map_job

    folder = Path(args.dir or tempfile.mkdtemp(prefix="map-scale-"))
    url = f"sqlite:///{folder / 'scale.db'}"
    t = time.perf_counter()
    run_id = build(url, args.pairs)
    build_s = time.perf_counter() - t
    t = time.perf_counter()
    result = run_map_job(sessionmaker(make_engine(url)), run_id, on="prompt")
    map_s = time.perf_counter() - t
    reads = []  # a new engine per call: no connection, SQLite's page cache empty
    for _ in range(5):
        engine = make_engine(url, readonly=True)
        t = time.perf_counter()
        with sessionmaker(engine)() as s:
            view = map_view(s, run_id)
        reads.append(time.perf_counter() - t)
        engine.dispose()
    warm = []  # one engine, as the dashboard keeps it (st.cache_resource)
    engine = make_engine(url, readonly=True)
    for _ in range(6):
        t = time.perf_counter()
        with sessionmaker(engine)() as s:
            map_view(s, run_id)
        warm.append(time.perf_counter() - t)
    engine.dispose()
    (folder / "scale.db").unlink(missing_ok=True)
    return save_result(
        args.out,
        pairs=args.pairs,
        build_seconds=round(build_s, 1),
        map_seconds=round(map_s, 2),
        method=result["method"],
        clusterer=result["clusterer"],
        clusters=len(result["clusters"]),
        worst_cluster={k: result["clusters"][0][k] for k in ("name", "n", "accuracy")},
        page_read_ms_median=round(1000 * statistics.median(reads), 1),
        page_read_ms_all=[round(1000 * r, 1) for r in reads],
        page_read_warm_engine_ms_median=round(1000 * statistics.median(warm[1:]), 1),
        points_returned=len(view["points"]),
    )


if __name__ == "__main__":
    import json

    print(json.dumps(main(), indent=2))  # noqa: T201 - a script's own output
