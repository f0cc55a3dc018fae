"""Reward-scoring throughput of the embedded model on CPU: threads x batch size.

Scores the demo test split's conversations (both sides) with the untrained head and
reports sequences per second. Run it on an otherwise idle machine:

    .venv/bin/python -m bench.score_throughput --pairs 48 --out bench/results/score_throughput.json
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from bench.record import save_result
from training.demo_data import build_demo_pairs
from training.loading import load_reward_model
from training.scoring import encode, score_encoded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=48)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8, 16, 32])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    rm = load_reward_model("smollm2-135m-instruct", device="cpu")
    pairs = [p for p in build_demo_pairs() if p["split"] == "test"][: args.pairs]
    enc = [
        encode(rm.tokenizer, p["prompt"], p[side], 256)
        for p in pairs
        for side in ("chosen", "rejected")
    ]
    tokens = sum(e.n_tokens for e in enc)
    score_encoded(rm, enc[:4], batch_size=4)  # warm-up
    rows = []
    for threads in args.threads:
        torch.set_num_threads(threads)
        for bs in args.batch_sizes:
            start = time.perf_counter()
            score_encoded(rm, enc, batch_size=bs)
            seconds = time.perf_counter() - start
            rows.append(
                {
                    "threads": threads,
                    "batch_size": bs,
                    "sequences": len(enc),
                    "tokens": tokens,
                    "seconds": round(seconds, 2),
                    "sequences_per_s": round(len(enc) / seconds, 2),
                }
            )
            print(rows[-1], flush=True)
    save_result(args.out, torch=torch.__version__, rows=rows)


if __name__ == "__main__":
    main()
