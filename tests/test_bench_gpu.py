"""The GPU benchmark's CPU rehearsal: ``bench/gpu_run.sh --tiny`` runs every part end to
end (real uvicorn servers on loopback for ``/v1/score``) and writes sane JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from bench.gpu_run import TINY
from tests.conftest import REPO

PARTS = ["scoring", "mixed", "api", "train", "generation", "fp32", "compiled"]


def test_gpu_run_tiny_rehearsal(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PREFLENS_")},
        "PYTHON": sys.executable,
        "OUT": str(tmp_path),
        "PREFLENS_WHEELS": "none",
        "HF_HUB_OFFLINE": "1",
    }
    proc = subprocess.run(
        ["bash", str(REPO / "bench" / "gpu_run.sh"), "--tiny"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads((tmp_path / "gpu_run_tiny.json").read_text())
    assert result["tiny"] is True and result["device"] == "cpu"
    assert result["parts_done"] == PARTS and result["parts_skipped"] == []
    for part in PARTS:
        assert "error" not in result[part], result[part]

    scoring = result["scoring"]
    assert scoring["token_budget"] == TINY.cpu_budget
    assert scoring["attn_implementation"] == "sdpa"
    timed = [r for r in scoring["rows"] if r["batching"] != "forward_only"]
    assert {(r["length"], r["batching"]) for r in timed} == {
        (length, batching)
        for length in TINY.lengths
        for batching in ("fixed_16_sequences", "token_budget")
    }
    for r in timed:
        assert r["dtype"] == "bfloat16" and r["pairs"] == TINY.pairs
        assert r["real_tokens"] == 2 * TINY.pairs * r["length"]
        assert (
            abs(r["tokens_per_s"] - r["real_tokens"] / r["seconds"]) <= 0.02 * r["tokens_per_s"] + 1
        )
        assert 0 < r["mfu"] < 1
    assert {r["length"] for r in scoring["rows"] if r["batching"] == "forward_only"} == set(
        TINY.lengths
    )
    mixed = result["mixed"]["rows"]
    assert len(mixed) == 2 and len({r["real_tokens"] for r in mixed}) == 1
    assert all(
        r["pairs"] == TINY.fp32_pairs and r["dtype"] == "float32" for r in result["fp32"]["rows"]
    )

    api = result["api"]
    for clients in TINY.api_clients:
        rows = {r["server"]: r for r in api if r["clients"] == clients}
        assert set(rows) == {"micro-batching", "no micro-batching"}
        # Off: one pass per request; on: never more passes than requests.
        assert rows["no micro-batching"]["forward_passes"] == TINY.api_requests
        assert 1 <= rows["micro-batching"]["forward_passes"] <= TINY.api_requests
        assert all(r["requests_per_s"] > 0 for r in rows.values())
    alone = [r for r in api if r["clients"] == 1]
    assert len(alone) == 2 and all(r["median_latency_s"] > 0 for r in alone)

    for step in ("rm", "dpo"):
        row = result["train"][step]
        assert row["pairs"] == TINY.train_pairs and row["seconds_per_step_median"] > 0
        assert row["peak_allocated_gib"] is None  # no GPU allocator on a CPU

    gen = result["generation"]
    assert {(r["mode"], r["batch"]) for r in gen} == {
        (m, b) for m in ("dynamic", "static") for b in TINY.gen_batches
    }
    for r in gen:
        assert r["new_tokens"] == r["batch"] * TINY.new_tokens  # EOS suppressed
        assert r["tokens_per_s"] > 0
    assert result["compiled"] == []  # static_compiled runs only in the full plan
