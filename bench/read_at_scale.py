"""Read queries at scale: the dashboard's and the API's ``db.read`` calls on one score run
of a million pairs in a SQLite store.

Builds (once, then reuses) a store with N synthetic pairs (short texts, five categories,
both splits) and one score run over all of them, then times each read call the Reward
model and Cases pages make: first call and a repeat (the dashboard caches results, so the
first call is what a user waits for once per run). Run it on an otherwise idle machine:

    .venv/bin/python -m bench.read_at_scale --pairs 1000000 --out bench/results/read_at_scale.json
"""

from __future__ import annotations

import argparse
import hashlib
import time
from pathlib import Path

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import sessionmaker

from bench.record import save_result
from db import read
from db.migrate import upgrade
from db.schema import Dataset, Pair, PairScore, Run
from db.session import make_engine

CATEGORIES = ("safety", "helpfulness", "factuality", "coding", "style")
WORDS = ("tea", "river", "garden", "engine", "violin", "harbor", "lantern", "orbit")
CHUNK = 50_000


def build(url: str, n: int, seed: int = 0) -> float:
    """Fill an empty store with ``n`` pairs and one score run; returns seconds taken."""
    start = time.perf_counter()
    upgrade(url)
    make = sessionmaker(make_engine(url))
    rng = np.random.default_rng(seed)
    with make() as s:
        ds = Dataset(name="scale", source="synthetic", format="trl", options={})
        s.add(ds)
        s.flush()
        run = Run(kind="score", key="scale", status="running", dataset_id=ds.id, total=n)
        s.add(run)
        s.commit()
        ds_id, run_id = ds.id, run.id
    for lo in range(0, n, CHUNK):
        ids = range(lo, min(lo + CHUNK, n))
        chosen = rng.normal(0.5, 1.0, len(ids))
        gap = rng.normal(0.3, 1.0, len(ids))
        with make() as s:
            first = s.scalar(select(Pair.id).order_by(Pair.id.desc()).limit(1)) or 0
            s.execute(
                insert(Pair),
                [
                    {
                        "dataset_id": ds_id,
                        "split": "test" if i % 5 == 0 else "train",
                        "source_row": i + 1,
                        "prompt": [{"role": "user", "content": f"Question {i} about the {w}?"}],
                        "prompt_text": f"user: Question {i} about the {w}?",
                        "chosen": f"A careful answer {i} about the {w}, with the reasons why.",
                        "rejected": f"A short reply {i}.",
                        "category": CATEGORIES[i % len(CATEGORIES)],
                        "content_hash": hashlib.sha256(str(i).encode()).hexdigest(),
                    }
                    for i in ids
                    for w in (WORDS[i % len(WORDS)],)
                ],
            )
            s.execute(
                insert(PairScore),
                [
                    {
                        "run_id": run_id,
                        "pair_id": first + k + 1,
                        "category": CATEGORIES[i % len(CATEGORIES)],
                        "score_chosen": float(chosen[k]),
                        "score_rejected": float(chosen[k] - gap[k]),
                        "gap": float(gap[k]),
                        "tokens_chosen": 40 + i % 50,
                        "tokens_rejected": 20 + i % 30,
                        "truncated_chosen": False,
                        "truncated_rejected": False,
                    }
                    for k, i in enumerate(ids)
                ],
            )
            s.commit()
        print(f"built {min(lo + CHUNK, n)} / {n} pairs", flush=True)
    with make() as s:
        run = s.get(Run, run_id)
        run.summary = read.score_summary(s, run_id)
        run.status, run.progress = "done", 1.0
        s.commit()
    return time.perf_counter() - start


def timed(fn, *args, **kwargs) -> tuple[float, float]:
    """Seconds of a first call and of a repeat."""
    out = []
    for _ in range(2):
        start = time.perf_counter()
        fn(*args, **kwargs)
        out.append(time.perf_counter() - start)
    return round(out[0], 3), round(out[1], 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=Path("/tmp/preflens-bench/read_scale.db"))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    args.db.parent.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{args.db.resolve()}"
    build_s = None
    if not args.db.exists():
        build_s = round(build(url, args.pairs), 1)
    make = sessionmaker(make_engine(url, readonly=True))
    with make() as s:
        run_id = s.scalar(select(Run.id).where(Run.key == "scale"))
        n = s.scalar(select(Run.total).where(Run.id == run_id))
        pair_id = s.scalar(select(PairScore.pair_id).where(PairScore.run_id == run_id).limit(1))
        page = read.search_cases(s, run_id, sort="gap_desc", limit=50)
        calls = {
            "run_summary": (read.run_summary, run_id),
            "histogram chosen (40 bins)": (read.histogram, run_id, "chosen", 40),
            "histogram gap (40 bins)": (read.histogram, run_id, "gap", 40),
            "cdf chosen (200 points)": (read.cdf, run_id, "chosen"),
            "box gap": (read.box_stats, run_id, "gap"),
            "percentile of a score": (read.score_percentile, run_id, 0.5),
            "cases: largest gap, page 1": (read.search_cases, run_id),
            "cases: next page (cursor)": (
                read.search_cases,
                run_id,
                {"cursor": page["next_cursor"]},
            ),
            "cases: gap in [-0.05, 0.05], closest to zero": (
                read.search_cases,
                run_id,
                {"min_gap": -0.05, "max_gap": 0.05, "sort": "abs_gap"},
            ),
            "cases: category coding, split test": (
                read.search_cases,
                run_id,
                {"category": "coding", "split": "test"},
            ),
            "cases: text 'violin 4242'": (read.search_cases, run_id, {"q": "violin 4242"}),
            "one case in full": (read.get_case, run_id, pair_id),
        }
        rows = []
        for name, (fn, *rest) in calls.items():
            kwargs = rest.pop() if isinstance(rest[-1], dict) else {}
            first, repeat = timed(fn, s, *rest, **kwargs)
            rows.append({"query": name, "first_s": first, "repeat_s": repeat})
            print(rows[-1], flush=True)
    save_result(
        args.out,
        pairs=n,
        db_bytes=args.db.stat().st_size,
        build_seconds=build_s,
        rows=rows,
    )


if __name__ == "__main__":
    main()
