"""``preflens suspects`` measured two ways.

``--part scale``: the ranking (``db.read.suspects.suspects``) over N synthetic pairs with
three finished score runs and one score_dpo run on all of them, a fresh engine per timed
call (goal: <= 2 s at 100k pairs).

``--part demo``: planted flips on the demo data. The demo's reward model (the embedded
model, the demo's ``train-rm`` options) is trained on the demo train split; a copy of the
test split with a seeded 10% of labels flipped is ingested and scored with it; precision@k
and recall@k of the flipped pairs are reported for k = the number flipped.

``--part demo-signals``: the same planted flips ranked with several reward models already
trained (``--rms``: e.g. the checkpoints of the demo RM's ``--eval-every`` series that
``bench.bon_demo`` leaves in its data folder), each alone and all together.

    .venv/bin/python -m bench.suspects --part scale --pairs 100000 --dir /tmp/suspects
    .venv/bin/python -m bench.suspects --part demo --dir /tmp/suspects-demo
    .venv/bin/python -m bench.suspects --part demo-signals --dir /tmp/suspects-signals \
        --rms /tmp/bon-demo/rm-demo-series/checkpoint-10 \
        /tmp/bon-demo/rm-demo-series/checkpoint-20 /tmp/bon-demo/rm-demo
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import insert
from sqlalchemy.orm import sessionmaker

from bench.record import save_result
from bench.scale_store import scale_store
from db.runs import finish_run
from db.schema import DpoScore, Pair, PairScore
from db.session import make_engine

log = logging.getLogger("bench.suspects")
CHUNK = 50_000


def build(url: str, n: int, seed: int = 0) -> float:
    """An empty store with ``n`` pairs, three score runs and one score_dpo run."""
    start = time.perf_counter()
    make, ds_id, run_ids = scale_store(
        url,
        [
            {"kind": k, "key": f"r{i}", "status": "done", "config": {"beta": 0.1}}
            for i, k in enumerate(["score", "score", "score", "score_dpo"])
        ],
    )
    rng = np.random.default_rng(seed)
    for lo in range(0, n, CHUNK):
        ids = range(lo + 1, min(lo + CHUNK, n) + 1)
        with make() as s:
            s.execute(
                insert(Pair),
                [
                    {
                        "id": i,
                        "dataset_id": ds_id,
                        "split": "test",
                        "source_row": i,
                        "prompt": [{"role": "user", "content": f"q{i}"}],
                        "prompt_text": f"user: q{i}",
                        "chosen": f"c{i}",
                        "rejected": f"r{i}",
                        "category": None,
                        "content_hash": hashlib.sha256(str(i).encode()).hexdigest(),
                    }
                    for i in ids
                ],
            )
            for rid in run_ids[:3]:
                gap = rng.normal(1.0, 2.0, len(ids))
                s.execute(
                    insert(PairScore),
                    [
                        {
                            "run_id": rid,
                            "pair_id": i,
                            "split": "test",
                            "score_chosen": float(g),
                            "score_rejected": 0.0,
                            "gap": float(g),
                        }
                        for i, g in zip(ids, gap, strict=True)
                    ],
                )
            gap = rng.normal(0.2, 0.5, len(ids))
            s.execute(
                insert(DpoScore),
                [
                    {
                        "run_id": run_ids[3],
                        "pair_id": i,
                        "logp_policy_chosen": -1.0,
                        "logp_policy_rejected": -1.0,
                        "tokens_chosen": 1,
                        "tokens_rejected": 1,
                        "reward_chosen": float(g),
                        "reward_rejected": 0.0,
                        "gap": float(g),
                    }
                    for i, g in zip(ids, gap, strict=True)
                ],
            )
            s.commit()
    with make() as s:  # as a job finishes its runs: score runs store their columns
        for rid in run_ids:
            finish_run(s, rid)
        s.commit()
    return time.perf_counter() - start


def scale(n: int, folder: Path, calls: int = 3) -> dict[str, Any]:
    """Time the suspects read over ``n`` pairs (building the store once)."""
    from db.read.suspects import suspects

    db = folder / f"suspects-{n}.db"
    url = f"sqlite:///{db}"
    build_s = 0.0 if db.exists() else build(url, n)
    out: dict[str, Any] = {"pairs": n, "build_s": round(build_s, 1)}
    # Every signal (3 score runs + 1 score_dpo run), then the 3 score runs alone (their
    # gaps come from the columns stored when a score run finishes; a score_dpo run's
    # from its rows).
    for name, runs in (("all_signals", None), ("score_runs_only", [1, 2, 3])):
        times = []
        for _ in range(calls):
            engine = make_engine(url, readonly=True)
            start = time.perf_counter()
            with sessionmaker(engine)() as s:
                d = suspects(s, "scale", runs, limit=50)
            times.append(time.perf_counter() - start)
            engine.dispose()
        out[name] = {
            "signals": len(d["runs"]),
            "seconds": [round(t, 3) for t in times],
            "median_s": round(float(np.median(times)), 3),
        }
    return out


def _flipped_copy(
    make: Any, rows: list[dict[str, Any]], folder: Path, flip_share: float, seed: int
) -> tuple[list[dict[str, Any]], int]:
    """Ingest the demo test split with a seeded ``flip_share`` of its pairs swapped (source
    ids ``flipped-i`` / ``kept-i``) as dataset ``demo-flip``; its rows and the flip count."""
    from training.jobs.ingest import ingest

    test = [dict(r) for r in rows if r["split"] == "test"]
    rng = np.random.default_rng(seed)
    k = max(1, round(flip_share * len(test)))
    flipped = set(rng.choice(len(test), size=k, replace=False).tolist())
    for i in flipped:
        test[i]["chosen"], test[i]["rejected"] = test[i]["rejected"], test[i]["chosen"]
        test[i]["id"] = f"flipped-{i}"
    for i, r in enumerate(test):
        r.setdefault("id", f"kept-{i}")
    noisy = folder / "demo_flip.jsonl"
    noisy.write_text("".join(json.dumps(r) + "\n" for r in test), encoding="utf-8")
    ingest(make, noisy, fmt="trl", name="demo-flip", progress=False)
    return test, k


def _hits(session: Any, run_ids: list[int] | None, ks: list[int]) -> list[int]:
    """Planted flips among the ``k`` most suspicious pairs of ``demo-flip``, per k."""
    from db.read.suspects import rank_pairs

    ranked = rank_pairs(session, "demo-flip", run_ids)
    source = {
        p.id: p.source_id
        for p in session.query(Pair).filter(Pair.dataset_id == ranked["dataset_id"])
    }
    flipped = [(source[int(p)] or "").startswith("flipped-") for p in ranked["pair_id"]]
    return [sum(flipped[:k]) for k in ks]


def demo_signals(
    folder: Path, rms: list[str], flip_share: float = 0.1, seed: int = 0
) -> dict[str, Any]:
    """The planted flips of ``demo`` ranked with several trained reward models as signals
    (e.g. the checkpoints of a ``train-rm --eval-every`` series): precision@k of each one
    alone and of all of them together."""
    import os

    os.environ["PREFLENS_DATA_DIR"] = str(folder / "data")
    from db.migrate import open_store
    from training.demo_data import build_demo_pairs
    from training.jobs.demo import MAX_LENGTH
    from training.jobs.score import run_score_job

    make = open_store()
    folder.mkdir(parents=True, exist_ok=True)
    test, k = _flipped_copy(make, list(build_demo_pairs(seed=0)), folder, flip_share, seed)
    signals = []
    for rm in rms:
        start = time.perf_counter()
        run = run_score_job(
            make, rm, "demo-flip", split="test", max_length=MAX_LENGTH, progress=False
        ).run
        signals.append(
            {
                "rm": rm,
                "run": run.id,
                "accuracy_on_noisy": (run.summary or {}).get("accuracy"),
                "score_s": round(time.perf_counter() - start, 1),
            }
        )
    # Every subset of the signals, each one alone and all together among them.
    subsets = []
    with make() as s:
        for size in range(1, len(signals) + 1):
            for subset in itertools.combinations(signals, size):
                hits = _hits(s, [x["run"] for x in subset], [k, 2 * k, 3 * k])
                subsets.append(
                    {
                        "rms": [x["rm"] for x in subset],
                        "precision_at_k": hits[0] / k,
                        "recall_at_2k": hits[1] / k,
                        "recall_at_3k": hits[2] / k,
                    }
                )
    for signal, alone in zip(signals, subsets, strict=False):  # the first subsets: one each
        signal["precision_at_k"] = alone["precision_at_k"]
        log.info("%s: precision@%d %.3f", signal["rm"], k, alone["precision_at_k"])
    together = subsets[-1]["precision_at_k"]  # all signals; with k flips, = recall@k
    return {
        "test_pairs": len(test),
        "flipped": k,
        "k": k,
        "base_rate": k / len(test),
        "signals": signals,
        "precision_at_k_all": together,
        "recall_at_k_all": together,
        "subsets": subsets,
    }


def demo(folder: Path, flip_share: float = 0.1, seed: int = 0) -> dict[str, Any]:
    """Train the demo RM, flip ``flip_share`` of the demo test split, score, rank."""
    import os

    os.environ["PREFLENS_DATA_DIR"] = str(folder / "data")
    from db.migrate import open_store
    from preflens.config import EMBEDDED_MODEL_ALIAS
    from training.configs import RMTrainConfig
    from training.demo_data import build_demo_pairs
    from training.jobs.demo import DEMO_DATASET, MAX_LENGTH, RM_DEMO
    from training.jobs.ingest import ingest
    from training.jobs.score import run_score_job
    from training.jobs.train_rm import train_rm

    make = open_store()
    folder.mkdir(parents=True, exist_ok=True)
    rows = list(build_demo_pairs(seed=0))
    clean = folder / "demo.jsonl"
    clean.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    ingest(make, clean, fmt="trl", name=DEMO_DATASET, progress=False)
    start = time.perf_counter()
    common = {"dataset": DEMO_DATASET, "model": EMBEDDED_MODEL_ALIAS, "max_length": MAX_LENGTH}
    run = train_rm(make, RMTrainConfig(**common, **RM_DEMO), progress=False).run
    train_s = time.perf_counter() - start
    test, k = _flipped_copy(make, rows, folder, flip_share, seed)
    score = run_score_job(
        make,
        run.summary["output"],
        "demo-flip",
        split="test",
        max_length=MAX_LENGTH,
        progress=False,
    ).run
    with make() as s:
        [hits] = _hits(s, None, [k])
    return {
        "test_pairs": len(test),
        "flipped": k,
        "k": k,
        "precision_at_k": hits / k,
        "recall_at_k": hits / k,
        "base_rate": k / len(test),
        "rm_accuracy_on_clean_test": run.summary["scores"]["after"]["accuracy"],
        "score_run_accuracy_on_noisy": (score.summary or {}).get("accuracy"),
        "train_s": round(train_s, 1),
        "rm_options": RM_DEMO,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("scale", "demo", "demo-signals"), required=True)
    parser.add_argument(
        "--rms", nargs="+", default=[], help="demo-signals: trained reward models (paths)"
    )
    parser.add_argument("--pairs", type=int, nargs="+", default=[100_000])
    parser.add_argument("--dir", type=Path, default=Path("/tmp/preflens-suspects"))
    parser.add_argument("--out", type=Path, default=Path("bench/results/suspects.json"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args.dir.mkdir(parents=True, exist_ok=True)
    if args.part == "scale":
        result = {"scale": [scale(n, args.dir) for n in args.pairs]}
    elif args.part == "demo":
        result = {"demo": demo(args.dir)}
    else:
        if not args.rms:
            parser.error("--part demo-signals needs --rms PATH [PATH ...]")
        result = {"demo_signals": demo_signals(args.dir, args.rms)}
    for line in json.dumps(result, indent=2).splitlines():
        log.info(line)
    save_result(args.out.with_name(f"{args.out.stem}_{args.part}.json"), **result)


if __name__ == "__main__":
    main()
