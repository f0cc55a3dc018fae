"""A valid regex edit that runs past its time limit on one dataset text skips that pair
(counted, its id in the run's summary and on the command line); the rest is scored."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import select

from backend.app import create_app
from db.schema import Pair, ProbeScore, Run
from preflens.cli.main import main
from preflens.config import get_settings
from tests.factories import trl_rows, write_jsonl

PATTERN = "(a|aa)+$"  # valid, but backtracks exponentially on a run of a's then a non-a
SLOW = "a" * 41 + "!"  # ran past the 0.5 s limit here (the regex engine's timeout)


def test_a_timed_out_edit_skips_its_pair_only(cli_store, tiny_lm, tmp_path, capsys):
    rows = trl_rows(4)
    rows[2]["rejected"] = SLOW
    data = write_jsonl(tmp_path / "d.jsonl", rows)
    assert main(["ingest", str(data), "--name", "d", "--split", "test"]) == 0
    edits = tmp_path / "edits.json"
    edits.write_text(json.dumps({"edits": [
        {"name": "trim-a", "op": "regex", "pattern": PATTERN, "replacement": ""}]}))  # fmt: skip
    capsys.readouterr()
    argv = ["probe", "--model", str(tiny_lm), "--dataset", "d", "--split", "test",
            "--edits-file", str(edits), "--edits", "trim-a", "--batch-size", "2"]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    with cli_store() as s:
        ids = s.scalars(select(Pair.id).order_by(Pair.id)).all()
        run = s.scalars(select(Run).where(Run.kind == "probe")).one()
        scored = s.execute(select(ProbeScore.pair_id, ProbeScore.edit, ProbeScore.side)
                           .where(ProbeScore.run_id == run.id)).all()  # fmt: skip
    slow = ids[2]
    assert run.status == "done"
    assert run.summary["skipped"] == {"edit timed out": [slow]}
    assert run.summary["pairs"] == 3
    # every other pair has both sides, original and edited
    assert sorted(scored) == sorted(
        (p, e, side) for p in ids if p != slow for e in ("original", "trim-a")
        for side in ("chosen", "rejected")
    )  # fmt: skip
    assert f"1 pairs skipped: edit timed out (pair ids {slow})" in printed
    assert "probed 3 pairs" in printed
    with TestClient(create_app(get_settings(), reward_model=None, policies={})) as api:
        body = api.get(f"/v1/runs/{run.id}/probes").json()
    assert body["skipped"] == {"edit timed out": [slow]} and body["pairs"] == 3
