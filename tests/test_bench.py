"""The read-at-scale benchmark builds its store and times every query (at a small size)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_read_at_scale_benchmark_runs_every_query(tmp_path):
    out = tmp_path / "result.json"
    cmd = [sys.executable, "-m", "bench.read_at_scale", "--pairs", "300"]
    cmd += ["--db", str(tmp_path / "scale.db"), "--out", str(out)]
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, timeout=300)
    result = json.loads(out.read_text())
    assert result["pairs"] == 300 and result["build_seconds"] > 0
    queries = [r["query"] for r in result["rows"]]
    assert len(queries) == 12 and "one case in full" in queries
    assert all(r["first_s"] >= 0 and r["repeat_s"] >= 0 for r in result["rows"])
