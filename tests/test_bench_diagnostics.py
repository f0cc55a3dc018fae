"""The diagnostics-at-scale benchmark builds its store and times the endpoint (small size)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_diagnostics_benchmark_runs(tmp_path):
    out = tmp_path / "result.json"
    cmd = [sys.executable, "-m", "bench.diagnostics_at_scale", "--pairs", "300"]
    cmd += ["--dir", str(tmp_path), "--out", str(out), "--repeats", "1"]
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, timeout=300)
    result = json.loads(out.read_text())
    (row,) = result["rows"]
    assert row["pairs"] == 300 and row["endpoint_s"][0] > 0
    assert row["accuracy"]["n"] == 300 and row["auc_method"].startswith("bootstrap")
