"""``/v1/score`` on the GPU benchmark's model (``bench.gpu_run``): two real servers on
loopback, micro-batching on and off (``PREFLENS_BATCH_MAX_SIZE=1``), under each client
count, then one client alone alternating between them (what the batcher's wait costs).
The request loop and server start are ``bench.score_throughput``'s."""

from __future__ import annotations

import logging
import statistics
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

log = logging.getLogger("bench.gpu_run")

if TYPE_CHECKING:
    import torch

    from bench.gpu_run import Plan


def start_servers(wanted: list[tuple[str, dict]]) -> list[tuple[str, object, str]]:
    """Start the servers side by side (each loads its model at the same time); if one
    fails, stop the others and raise."""
    from bench.score_throughput import serve

    with ThreadPoolExecutor(len(wanted)) as pool:
        futures = [(label, pool.submit(serve, env)) for label, env in wanted]
    started, failure = [], None
    for label, fut in futures:
        try:
            started.append((label, *fut.result()))
        except Exception as exc:  # noqa: BLE001 - re-raised once the others are stopped
            failure = exc
    if failure is not None:
        for _, proc, _ in started:
            proc.terminate()
        raise failure
    return started


def api_part(ckpt: Path, device: torch.device, plan: Plan, data_dir: Path, rounds: int = 3) -> list:
    """``/v1/score`` throughput and one-client latency, micro-batching on and off."""
    from bench.score_throughput import SERVERS, api_load

    rng = np.random.default_rng(3)
    items = [
        {
            "prompt": [{"role": "user", "content": "q" * int(rng.integers(16, 64))}],
            "response": "r" * int(rng.integers(64, 400)),
        }
        for _ in range(plan.api_requests)
    ]
    base = {
        "PREFLENS_API_RM": str(ckpt),
        "PREFLENS_API_DEVICE": str(device),
        "PREFLENS_DATA_DIR": str(data_dir),
        "PREFLENS_API_POLICIES": "{}",
    }
    started = start_servers([(label, {**base, **env}) for label, env in SERVERS])
    rows = []
    try:
        for _, _, url in started:
            api_load(url, items[:8], 4)  # warm-up
        for clients in plan.api_clients:
            for label, _, url in started:
                row = {"server": label, **api_load(url, items, clients)}
                rows.append(row)
                log.info("%s", row)
        medians: dict[str, list[float]] = {label: [] for label, _, _ in started}
        for _ in range(rounds):
            for label, _, url in started:
                one = api_load(url, items[: plan.latency_requests], 1)
                medians[label].append(one["median_latency_s"])
        for label, _, _ in started:
            rows.append(
                {
                    "server": label,
                    "clients": 1,
                    "requests": plan.latency_requests,
                    "rounds": rounds,
                    "round_median_latency_s": medians[label],
                    "median_latency_s": round(statistics.median(medians[label]), 4),
                }
            )
    finally:
        for _, proc, _ in started:
            proc.terminate()
            proc.wait(timeout=60)
    return rows
