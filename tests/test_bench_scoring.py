"""The scoring-throughput and DPO-reference benchmarks run end to end (tiny models, a few
HH pairs) and record what RESULTS.md reads from them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import HH_FILE

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not HH_FILE.exists(), reason=f"{HH_FILE} not found")


def run_bench(module: str, *args: str) -> None:
    cmd = [sys.executable, "-m", module, *args]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]


def test_score_throughput_records_bucketing_batch_and_pass_cost(tmp_path, tiny_lm):
    out = tmp_path / "score.json"
    run_bench(
        "bench.score_throughput",
        *("--pairs", "12", "--parts", "bucketing", "batch", "passcost"),
        *("--model", str(tiny_lm), "--out", str(out)),
    )
    result = json.loads(out.read_text())
    assert result["pairs"] == 12 and result["model"] == str(tiny_lm) and result["tokens"] > 0
    bucketed, arrival = result["bucketing"]
    assert bucketed["bucketed"] and not arrival["bucketed"]
    assert 1.0 <= bucketed["padded_over_real_tokens"] <= arrival["padded_over_real_tokens"]
    assert [r["batch_size"] for r in result["batch"]] == [8, 1]
    assert result["batch"][1]["padded_over_real_tokens"] == 1.0
    assert [r["tokens_per_sequence"] for r in result["passcost"]] == [16, 64, 128, 192, 384]
    for row in result["passcost"]:
        assert row["batch_1_ms_per_sequence"] > 0 and row["batch_8_ms_per_sequence"] > 0


def test_short_requests_are_shorter_than_the_full_conversations():
    from bench.score_throughput import api_items, hh_pairs

    pairs = hh_pairs(6)
    full, short = api_items(pairs, "full"), api_items(pairs, "short")
    assert len(full) == len(short) == 12
    assert all(len(s["prompt"]) == 1 and s["prompt"][0]["role"] == "user" for s in short)
    assert all(
        len(s["response"]) <= min(100, len(f["response"])) for s, f in zip(short, full, strict=True)
    )


def test_dpo_reference_times_the_same_steps_both_ways(tmp_path, tiny_lm):
    out = tmp_path / "dpo.json"
    run_bench(
        "bench.dpo_reference",
        *("--pairs", "16", "--steps", "2", "--max-length", "96"),
        *("--model", str(tiny_lm), "--out", str(out)),
    )
    result = json.loads(out.read_text())
    live, pre = result["runs"]
    assert (live["reference"], pre["reference"]) == ("live", "precomputed")
    assert live["reference_model_kept"] and not pre["reference_model_kept"]
    assert live["steps"] == pre["steps"] == 2 and len(result["per_step_speedup"]) == 2
    assert result["step_speedup"] == pytest.approx(
        live["step_seconds"][1] / pre["step_seconds"][1], rel=0.02
    )
