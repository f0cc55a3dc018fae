"""The read-at-scale benchmark builds its store and times every query, the previous
implementation beside today's, at a small size; the legacy reads it compares against
still answer the same questions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_read_at_scale_benchmark_runs_every_query_old_and_new(tmp_path):
    out = tmp_path / "result.json"
    cmd = [sys.executable, "-m", "bench.read_at_scale", "--pairs", "300", "500"]
    cmd += ["--db-dir", str(tmp_path), "--out", str(out)]
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, timeout=300)
    result = json.loads(out.read_text())
    assert [size["pairs"] for size in result["sizes"]] == [300, 500]
    for size in result["sizes"]:
        assert size["build"]["build_s"] > 0 and size["backend"] == "sqlite"
        queries = [r["query"] for r in size["rows"]]
        assert len(queries) == 16 and "cases: category coding, split test" in queries
        for row in size["rows"]:
            assert min(row["first_s"], row["repeat_s"], row["legacy_first_s"]) >= 0
        assert size["page_view"]["legacy_s"] > 0 and size["page_view"]["new_s"] > 0


def test_legacy_reads_agree_with_db_read_where_numpy_has_no_edge_cases(store):
    """Same counts and quartiles on values with no ties at bin edges: the benchmark
    compares two implementations of the same numbers."""
    import numpy as np

    from bench import legacy_reads
    from db import read
    from tests.backend.seed import seed_store

    seeded = seed_store(store)
    with store() as s:
        for side in ("chosen", "gap"):
            new, old = (
                read.box_stats(s, seeded.score_run, side),
                legacy_reads.box_stats(s, seeded.score_run, side),
            )
            assert {k: round(v, 9) for k, v in new.items() if isinstance(v, float)} == {
                k: round(v, 9) for k, v in old.items() if isinstance(v, float)
            }
        new = read.histogram(s, seeded.score_run, "gap", 7, -2.05, 2.05)
        old = legacy_reads.histogram(s, seeded.score_run, "gap", 7, -2.05, 2.05)
        assert new["counts"] == old["counts"] and np.sum(new["counts"]) == len(seeded.gaps)
        cases = legacy_reads.search_cases(s, seeded.score_run, split="test", limit=100)
        assert [c["pair_id"] for c in cases["items"]] == [
            c["pair_id"]
            for c in read.search_cases(s, seeded.score_run, split="test", limit=100)["items"]
        ]


def test_suspects_demo_signals_ranks_the_planted_flips_with_each_rm(tmp_path, tiny_lm, monkeypatch):
    """bench.suspects --part demo-signals on a tiny model: the flipped copy of the demo test
    split is scored once per RM; k is the flip count, and the hit counts agree with the
    source ids of the ranked pairs read back here."""
    from bench.suspects import demo_signals
    from db.migrate import open_store
    from db.read.suspects import rank_pairs
    from db.schema import Pair

    monkeypatch.setenv("PREFLENS_DATA_DIR", str(tmp_path / "data"))
    d = demo_signals(tmp_path, [str(tiny_lm)])
    assert d["k"] == d["flipped"] == round(0.1 * d["test_pairs"])
    [signal] = d["signals"]
    with open_store()() as s:
        ranked = rank_pairs(s, "demo-flip", [signal["run"]])
        src = {p.id: p.source_id for p in s.query(Pair)}
        flips = sum(src[p].startswith("flipped-") for p in src)
    top = ranked["pair_id"][: d["k"]]
    assert flips == d["k"]
    assert signal["precision_at_k"] == sum(src[int(p)].startswith("flipped-") for p in top) / d["k"]
