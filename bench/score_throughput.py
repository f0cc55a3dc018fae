"""Reward-scoring throughput of the embedded model on CPU, side by side in one process.

On the same HH-RLHF pairs (the shared file's first N rows, both sides scored):

- ``bucketing``: length-bucketed batches (longest first) against batches in arrival
  order, at batch 8: pairs/s and padded/real token ratio of each;
- ``batch``: batch 8 against batch 1 (both bucketed);
- ``passcost``: what one forward pass costs per sequence at batch 1 and batch 8, for
  equal-length sequences of 16 to 384 tokens (the ceiling of what sharing passes can buy);
- ``api``: ``/v1/score`` of a real uvicorn server on loopback under 8 concurrent clients
  (one conversation per request), micro-batching on (the default batcher) against off
  (``PREFLENS_BATCH_MAX_SIZE=1``), and one client alone on the first
  ``--latency-requests`` requests, alternating between the two servers (latency
  overhead); for two workloads: the full HH
  conversations and short requests (each pair's last user turn and the first 100
  characters of each response, the size of a Live-page check);
- ``grid``: threads x batch size (the earlier table).

Slow on a small CPU; run it on an otherwise idle machine, one part at a time if need be:

    .venv/bin/python -m bench.score_throughput --pairs 256 --parts bucketing batch passcost api \\
        --out bench/results/score_throughput.json
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import torch

from bench.record import save_result
from bench.serving import free_port, wait_healthy
from preflens.config import EMBEDDED_MODEL_ALIAS
from preflens.errors import RowError
from training.formats import PairRecord, read_hh
from training.loading import load_reward_model
from training.scoring import encode, length_batches, reward_forward, score_encoded

log = logging.getLogger("bench.score_throughput")
ROOT = Path(__file__).resolve().parents[1]
HH = Path(os.environ.get("PREFLENS_SHARED_DATA", ROOT.parent / "shared" / "data"))
HH_FILE = HH / "hh_rlhf_harmless_test_first1000.jsonl"
MAX_LENGTH = 512


def hh_records(n: int) -> list[PairRecord]:
    """The first ``n`` readable pairs of the shared HH-RLHF file."""
    out = []
    with HH_FILE.open() as f:
        for line in f:
            try:
                out.append(read_hh(json.loads(line)))
            except (RowError, json.JSONDecodeError):  # a row the reader refuses is skipped
                continue
            if len(out) == n:
                break
    return out


def hh_pairs(n: int) -> list[dict]:
    """The same pairs as plain dicts (prompt messages, chosen, rejected)."""
    return [{"prompt": p.prompt, "chosen": p.chosen, "rejected": p.rejected} for p in hh_records(n)]


def padding_ratio(lengths: list[int], batch_size: int, sort: bool) -> float:
    """Padded tokens / real tokens of the batches ``score_encoded`` would build."""
    padded = sum(
        len(b) * max(lengths[i] for i in b) for b in length_batches(lengths, batch_size, sort)
    )
    return padded / sum(lengths)


def timed_scoring(rm, enc, batch_size: int, sort: bool) -> dict:  # noqa: ANN001
    start = time.perf_counter()
    score_encoded(rm, enc, batch_size=batch_size, sort_by_length=sort)
    seconds = time.perf_counter() - start
    lengths = [e.n_tokens for e in enc]
    return {
        "batch_size": batch_size,
        "bucketed": sort,
        "pairs": len(enc) // 2,
        "seconds": round(seconds, 2),
        "pairs_per_s": round(len(enc) / 2 / seconds, 3),
        "padded_over_real_tokens": round(padding_ratio(lengths, batch_size, sort), 3),
    }


def serve(env_changes: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, **env_changes}
    cmd = [sys.executable, "-m", "preflens.cli.main", "serve", "--port", str(port)]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    wait_healthy(proc, url)
    return proc, url


def api_items(pairs: list[dict], workload: str) -> list[dict]:
    """One /v1/score body per pair side: the whole conversation, or a short request."""
    if workload == "full":
        return [
            {"prompt": p["prompt"], "response": p[s]} for p in pairs for s in ("chosen", "rejected")
        ]
    return [
        {"prompt": p["prompt"][-1:], "response": p[s][:100]}
        for p in pairs
        for s in ("chosen", "rejected")
    ]


def batcher_counts(url: str) -> dict:
    return httpx.get(f"{url}/readyz", timeout=30).json()["batcher"]


def api_load(url: str, items: list[dict], clients: int) -> dict:
    """Each item as one /v1/score request, from ``clients`` threads."""
    latencies: list[float] = []
    before = batcher_counts(url)

    def one(item: dict) -> None:
        start = time.perf_counter()
        r = httpx.post(f"{url}/v1/score", json=item, timeout=600)
        r.raise_for_status()
        latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, items))
    seconds = time.perf_counter() - start
    after = batcher_counts(url)
    return {
        "clients": clients,
        "requests": len(items),
        "seconds": round(seconds, 2),
        "requests_per_s": round(len(items) / seconds, 3),
        "median_latency_s": round(statistics.median(latencies), 3),
        "forward_passes": after["forward_passes"] - before["forward_passes"],
    }


SERVERS = (("micro-batching", {}), ("no micro-batching", {"PREFLENS_BATCH_MAX_SIZE": "1"}))


def api_part(pairs: list[dict], latency_requests: int, rounds: int = 3) -> list[dict]:
    """Both servers run side by side (an idle one takes no CPU). Throughput: 8 clients on
    one server, then on the other. Latency: one client, the first ``latency_requests``
    requests, alternating between the servers for ``rounds`` rounds (so a change in the
    machine's load falls on both); the median of the round medians is reported."""
    started = [(label, *serve(env)) for label, env in SERVERS]
    rows = []
    try:
        for _, _, url in started:
            api_load(url, api_items(pairs[:2], "full"), 2)  # warm-up
        for workload in ("full", "short"):
            items = api_items(pairs, workload)
            for label, _, url in started:
                row = {"server": label, "workload": workload, **api_load(url, items, 8)}
                rows.append(row)
                log.info("%s", row)
            medians: dict[str, list[float]] = {label: [] for label, _, _ in started}
            for _ in range(rounds):
                for label, _, url in started:
                    one = api_load(url, items[:latency_requests], 1)
                    medians[label].append(one["median_latency_s"])
            for label, _, _ in started:
                row = {
                    "server": label,
                    "workload": workload,
                    "clients": 1,
                    "requests": latency_requests,
                    "rounds": rounds,
                    "round_median_latency_s": medians[label],
                    "median_latency_s": round(statistics.median(medians[label]), 3),
                }
                rows.append(row)
                log.info("%s", row)
    finally:
        for _, proc, _ in started:
            proc.terminate()
            proc.wait(timeout=60)
    return rows


def pass_cost(rm, lengths: list[int], reps: int = 3) -> list[dict]:  # noqa: ANN001
    """Median milliseconds per sequence of one forward pass at batch 1 and at batch 8,
    equal-length sequences of random token ids (no padding)."""
    gen = torch.Generator().manual_seed(0)
    top = min(1000, rm.model.config.vocab_size)
    rows = []
    for length in lengths:
        per_seq = {}
        for batch in (1, 8):
            ids = torch.randint(top // 10, top, (batch, length), generator=gen)
            mask = torch.ones_like(ids)
            with torch.inference_mode():
                reward_forward(rm.model, ids, mask)  # warm-up
                times = []
                for _ in range(reps):
                    start = time.perf_counter()
                    reward_forward(rm.model, ids, mask)
                    times.append(time.perf_counter() - start)
            per_seq[batch] = statistics.median(times) / batch * 1000
        rows.append(
            {
                "tokens_per_sequence": length,
                "batch_1_ms_per_sequence": round(per_seq[1], 1),
                "batch_8_ms_per_sequence": round(per_seq[8], 1),
                "batch_8_speedup": round(per_seq[1] / per_seq[8], 2),
            }
        )
        log.info("%s", rows[-1])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=256)
    parser.add_argument("--api-pairs", type=int, help="pairs sent to the API (default: --pairs)")
    parser.add_argument(
        "--parts",
        nargs="+",
        default=["bucketing", "batch", "passcost", "api"],
        choices=["bucketing", "batch", "passcost", "api", "grid"],
    )
    parser.add_argument(
        "--latency-requests", type=int, default=64, help="requests of the one-client runs"
    )
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8, 16, 32])
    parser.add_argument(
        "--model", default=EMBEDDED_MODEL_ALIAS, help="reward model (not --parts api)"
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)

    pairs = hh_pairs(args.pairs)
    result: dict = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "data": HH_FILE.name,
        "pairs": len(pairs),
        "max_length": MAX_LENGTH,
        "model": args.model,
    }
    if set(args.parts) - {"api"}:
        rm = load_reward_model(args.model, device="cpu")
        enc = [
            encode(rm.tokenizer, p["prompt"], p[s], MAX_LENGTH)
            for p in pairs
            for s in ("chosen", "rejected")
        ]
        result["tokens"] = sum(e.n_tokens for e in enc)
        score_encoded(rm, enc[:4], batch_size=4)  # warm-up
        if "bucketing" in args.parts:
            result["bucketing"] = [timed_scoring(rm, enc, 8, sort) for sort in (True, False)]
            log.info("%s", result["bucketing"])
        if "batch" in args.parts:
            result["batch"] = [timed_scoring(rm, enc, bs, True) for bs in (8, 1)]
            log.info("%s", result["batch"])
        if "passcost" in args.parts:
            result["passcost"] = pass_cost(rm, [16, 64, 128, 192, 384])
        if "grid" in args.parts:
            grid = []
            for threads in args.threads:
                torch.set_num_threads(threads)
                grid += [
                    {"threads": threads, **timed_scoring(rm, enc, bs, True)}
                    for bs in args.batch_sizes
                ]
            result["grid"] = grid
    if "api" in args.parts:
        result["api"] = api_part(pairs[: args.api_pairs], args.latency_requests)
    save_result(args.out, **result)


if __name__ == "__main__":
    main()
