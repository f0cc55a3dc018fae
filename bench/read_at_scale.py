"""Read queries at scale, today's implementation against the previous one, side by side.

Builds (once per size, then reuses) a store with N synthetic pairs (short texts, five
categories, both splits, ``pair_score.split`` filled as the score job fills it) and one
finished score run over all of them (finished through ``db.runs.finish_run``, which
stores the run's sorted value series), then times every read call the Reward model and
Cases pages and the API's read endpoints make, with ``db.read`` (new) and with
``bench.legacy_reads`` (the SQL versions before the value series). "first" is a call on a
new connection and session (no application cache; SQLite's page cache empty, the OS
file cache warm), "repeat" the same call again on that session. The first Reward-model
page view is the sequence of calls the page makes for one run, on one new connection.

    .venv/bin/python -m bench.read_at_scale --pairs 10000 100000 1000000 \\
        --out bench/results/read_at_scale.json
    .venv/bin/python -m bench.read_at_scale --pairs 1000000 \\
        --database-url postgresql+psycopg://USER@HOST:PORT/DB \\
        --out bench/results/read_at_scale_postgresql_1m.json
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from bench import legacy_reads as legacy
from bench.record import save_result
from bench.scale_store import scale_store
from db import read
from db.runs import finish_run
from db.schema import Pair, PairScore, Run
from db.session import make_engine

log = logging.getLogger("bench.read_at_scale")
CATEGORIES = ("safety", "helpfulness", "factuality", "coding", "style")
WORDS = ("tea", "river", "garden", "engine", "violin", "harbor", "lantern", "orbit")
CHUNK = 50_000
BINS = 40


def _pairs(ds_id: int, ids: range) -> list[dict[str, Any]]:
    return [
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
    ]


def build(url: str, n: int, seed: int = 0) -> dict[str, float]:
    """Fill an empty store with ``n`` pairs and one finished score run; returns the
    seconds of the whole build and of finishing the run (summary + value series)."""
    start = time.perf_counter()
    make, ds_id, (run_id,) = scale_store(
        url, [{"kind": "score", "key": "scale", "status": "running", "total": n}]
    )
    rng = np.random.default_rng(seed)
    for lo in range(0, n, CHUNK):
        ids = range(lo, min(lo + CHUNK, n))
        chosen = rng.normal(0.5, 1.0, len(ids))
        gap = rng.normal(0.3, 1.0, len(ids))
        with make() as s:
            rows = (
                s.execute(
                    insert(Pair).returning(Pair.id, sort_by_parameter_order=True),
                    _pairs(ds_id, ids),
                )
                .scalars()
                .all()
            )
            s.execute(
                insert(PairScore),
                [
                    {
                        "run_id": run_id,
                        "pair_id": rows[k],
                        "category": CATEGORIES[i % len(CATEGORIES)],
                        "split": "test" if i % 5 == 0 else "train",
                        "score_chosen": float(chosen[k]),
                        "score_rejected": float(chosen[k] - gap[k]),
                        "gap": float(gap[k]),
                        "tokens_chosen": 40 + i % 50,
                        "tokens_rejected": 20 + i % 30,
                        "truncated_chosen": i % 97 == 0,
                        "truncated_rejected": False,
                    }
                    for k, i in enumerate(ids)
                ],
            )
            s.commit()
        log.info("built %d / %d pairs", min(lo + CHUNK, n), n)
    if make_url(url).get_backend_name() == "postgresql":
        # What autovacuum does soon after a bulk load: without statistics the planner
        # picks poor plans for the first queries (e.g. text search).
        with make_engine(url).connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("ANALYZE")
    finish_start = time.perf_counter()
    with make() as s:
        finish_run(s, run_id, read.score_summary(s, run_id))
        s.commit()
    end = time.perf_counter()
    return {"build_s": round(end - start, 1), "finish_s": round(end - finish_start, 3)}


def _fresh(url: str) -> Session:
    """A session on a new connection (no pooled connection, no identity map)."""
    return Session(make_engine_for_bench(url))


def make_engine_for_bench(url: str):  # noqa: ANN201 - an Engine
    if make_url(url).get_backend_name() == "sqlite":
        return make_engine(url, readonly=False)
    from sqlalchemy import create_engine

    return create_engine(url, poolclass=NullPool)


def timed(url: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[float, float]:
    """Seconds of a first call on a new connection, and of a repeat on the same session."""
    engine = make_engine_for_bench(url)
    out = []
    with Session(engine) as s:
        for _ in range(2):
            start = time.perf_counter()
            fn(s, *args, **kwargs)
            out.append(time.perf_counter() - start)
    engine.dispose()
    return round(out[0], 4), round(out[1], 4)


def page_view(session: Session, run_id: int, impl: Any) -> None:
    """The db.read calls of the Reward model page's first view of one run (no partner):
    runs list, three boxes, summary, two side histograms on a common range, three CDFs,
    the gap histogram."""
    read.list_runs(session)
    boxes = {side: impl.box_stats(session, run_id, side) for side in ("chosen", "rejected", "gap")}
    lo = min(boxes["chosen"]["min"], boxes["rejected"]["min"])
    hi = max(boxes["chosen"]["max"], boxes["rejected"]["max"])
    impl.run_summary(session, run_id)
    for side in ("chosen", "rejected"):
        impl.histogram(session, run_id, side, BINS, lo, hi)
    for side in ("chosen", "rejected", "gap"):
        impl.cdf(session, run_id, side)
    impl.histogram(session, run_id, "gap", BINS)


def calls(run_id: int, pair_id: int, cursor: str) -> dict[str, tuple]:
    """name -> (legacy call or None, new call, positional args, keyword args)."""
    return {
        "run summary (stored + per category)": (legacy.run_summary, read.run_summary, (), {}),
        "score summary recomputed (what a job stores at finish)": (
            legacy.score_summary,
            read.score_summary,
            (),
            {},
        ),
        "histogram chosen (40 bins)": (legacy.histogram, read.histogram, ("chosen", BINS), {}),
        "histogram gap (40 bins)": (legacy.histogram, read.histogram, ("gap", BINS), {}),
        "cdf chosen (200 points)": (legacy.cdf, read.cdf, ("chosen",), {}),
        "cdf gap (200 points)": (legacy.cdf, read.cdf, ("gap",), {}),
        "box chosen": (legacy.box_stats, read.box_stats, ("chosen",), {}),
        "box gap": (legacy.box_stats, read.box_stats, ("gap",), {}),
        "percentile of a score": (legacy.score_percentile, read.score_percentile, (0.5,), {}),
        "cases: category coding, split test": (
            legacy.search_cases,
            read.search_cases,
            (),
            {"category": "coding", "split": "test"},
        ),
        "cases: split test": (legacy.search_cases, read.search_cases, (), {"split": "test"}),
        "cases: largest gap, page 1": (read.search_cases, read.search_cases, (), {}),
        "cases: next page (cursor)": (
            read.search_cases,
            read.search_cases,
            (),
            {"cursor": cursor},
        ),
        "cases: gap in [-0.05, 0.05], closest to zero": (
            read.search_cases,
            read.search_cases,
            (),
            {"min_gap": -0.05, "max_gap": 0.05, "sort": "abs_gap"},
        ),
        "cases: text 'violin 4242'": (
            legacy.search_cases,
            read.search_cases,
            (),
            {"q": "violin 4242"},
        ),
        "one case in full": (read.get_case, read.get_case, (pair_id,), {}),
    }


def measure(url: str) -> dict[str, Any]:
    """Time every call, legacy and new, and the first page view of both, on ``url``."""
    with _fresh(url) as s:
        run_id = s.scalar(select(Run.id).where(Run.key == "scale"))
        n = s.scalar(select(Run.total).where(Run.id == run_id))
        pair_id = s.scalar(select(PairScore.pair_id).where(PairScore.run_id == run_id).limit(1))
        cursor = read.search_cases(s, run_id, sort="gap_desc", limit=50)["next_cursor"]
    rows = []
    for name, (old, new, args, kwargs) in calls(run_id, pair_id, cursor).items():
        row = {"query": name}
        row["legacy_first_s"], row["legacy_repeat_s"] = timed(url, old, run_id, *args, **kwargs)
        row["first_s"], row["repeat_s"] = timed(url, new, run_id, *args, **kwargs)
        row["speedup_first"] = round(row["legacy_first_s"] / max(row["first_s"], 1e-4), 1)
        rows.append(row)
        log.info("%s", row)
    page = {}
    for label, impl in (("legacy", legacy), ("new", read)):
        page[f"{label}_s"] = timed(url, page_view, run_id, impl)[0]
    log.info("page view %s", page)
    return {"pairs": n, "rows": rows, "page_view": page}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--db-dir", type=Path, default=Path("/tmp/preflens-bench"))
    parser.add_argument(
        "--database-url",
        help="an empty PostgreSQL (or other) database to build into instead of SQLite files "
        "(one size per database)",
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    sizes = []
    for n in args.pairs:
        if args.database_url:
            url, path = args.database_url, None
        else:
            args.db_dir.mkdir(parents=True, exist_ok=True)
            path = args.db_dir / f"read_scale_{n}.db"
            url = f"sqlite:///{path.resolve()}"
        built = None
        with _fresh(url) as s:
            try:
                exists = s.scalar(select(Run.id).where(Run.key == "scale")) is not None
            except DBAPIError:  # no tables yet
                exists = False
        if not exists:
            built = build(url, n)
        result = measure(url)
        result |= {"build": built, "backend": make_url(url).get_backend_name()}
        if path is not None:
            result["db_bytes"] = path.stat().st_size
        sizes.append(result)
    save_result(args.out, sizes=sizes)


if __name__ == "__main__":
    main()
