"""The probe/per-token load test runs end to end against a real server (a tiny model,
five requests) and records what bench/RESULTS.md reads from it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow  # starts a server: ~30-50 s on two busy cores
def test_probe_load_records_statuses_health_and_memory(tmp_path, tiny_lm):
    out = tmp_path / "load.json"
    cmd = [sys.executable, "-m", "bench.probe_load", "--model", str(tiny_lm),
           "--requests", "5", "--timeout", "120", "--out", str(out)]  # fmt: skip
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    r = json.loads(out.read_text())
    assert r["requests"] == 5 and r["all_2xx_or_4xx"]
    probe, score = r["statuses"]["/v1/probe"], r["statuses"]["/v1/score"]
    assert probe == {"422": 2, "200": 1}  # backtracking and growth refused, valid scored
    assert score == {"200": 1, "422": 1}  # at the token budget, and just over it
    assert r["healthz"]["polls"] > 0 and r["healthz"]["p95_ms"] > 0
    assert 0 < r["rss_mb"]["baseline"] <= r["rss_mb"]["peak"]
