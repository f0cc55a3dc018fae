"""Ingest into a real SQLite store: counts, bad rows with numbers, no duplicates, splits."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from db.schema import Pair, RejectedRow
from preflens.cli.main import main
from tests.conftest import HH_FILE
from tests.factories import trl_rows, write_jsonl
from training.jobs.ingest import ingest


def test_ingest_stores_pairs_and_bad_rows_and_reingest_adds_nothing(store, tmp_path):
    rows = trl_rows(20, category="math")
    rows.insert(5, {"prompt": "Q", "chosen": "same", "rejected": "same"})
    rows.insert(9, {"prompt": "Q", "chosen": "", "rejected": "b"})
    path = write_jsonl(tmp_path / "prefs.jsonl", rows + [rows[0]])  # last line repeats line 1
    report = ingest(store, path, test_fraction=0.3, progress=False)
    assert (report.rows, report.added, report.duplicates, report.rejected) == (23, 20, 1, 2)
    assert report.reasons == {"identical responses": 1, "empty response (chosen)": 1}
    with store() as s:
        bad = s.execute(
            select(RejectedRow.source_row, RejectedRow.reason).order_by(RejectedRow.source_row)
        ).all()
        assert bad == [(6, "identical responses"), (10, "empty response (chosen)")]
        splits = dict(s.execute(select(Pair.split, func.count()).group_by(Pair.split)).all())
        assert set(splits) == {"train", "test"} and sum(splits.values()) == 20
        before = {p.content_hash: p.split for p in s.scalars(select(Pair))}
    again = ingest(store, path, test_fraction=0.3, progress=False)
    assert (again.added, again.duplicates, again.rejected) == (0, 21, 2)
    with store() as s:
        assert s.scalar(select(func.count()).select_from(Pair)) == 20
        assert s.scalar(select(func.count()).select_from(RejectedRow)) == 2
        assert {p.content_hash: p.split for p in s.scalars(select(Pair))} == before


def test_row_split_column_wins(store, tmp_path):
    rows = trl_rows(4)
    for i, row in enumerate(rows):
        row["split"] = "test" if i % 2 else "train"
    report = ingest(store, write_jsonl(tmp_path / "s.jsonl", rows), split="other", progress=False)
    assert report.splits == {"train": 2, "test": 2}


def test_cli_ingest_exit_codes(tmp_path, capsys):
    good = write_jsonl(tmp_path / "good.jsonl", trl_rows(3))
    assert main(["ingest", str(good), "--split", "test"]) == 0
    assert "pairs added:   3" in capsys.readouterr().out
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"prompt": "Q", "chosen": "x", "rejected": "x"}])
    assert main(["ingest", str(bad)]) == 1
    printed = capsys.readouterr().out
    assert "row 1: identical responses" in printed and "no row could be read" in printed
    unknown = write_jsonl(tmp_path / "odd.jsonl", [{"a": 1}])
    assert main(["ingest", str(unknown)]) == 2
    assert "no known layout" in capsys.readouterr().err


def _hh_empty_final_reply_rows() -> list[int]:
    rows = []
    for number, line in enumerate(HH_FILE.read_text(encoding="utf-8").splitlines(), start=1):
        row = json.loads(line)
        if any(
            not row[side].rsplit("\n\nAssistant:", 1)[1].strip() for side in ("chosen", "rejected")
        ):
            rows.append(number)
    return rows


@pytest.mark.skipif(not HH_FILE.exists(), reason=f"shared HH-RLHF file absent: {HH_FILE}")
def test_shared_hh_file(store):
    report = ingest(store, HH_FILE, progress=False)
    expected_bad = _hh_empty_final_reply_rows()
    assert expected_bad, "the shared file is known to hold rows with an empty final reply"
    assert report.format == "hh-rlhf"
    assert sorted(n for n, _ in report.examples) == expected_bad
    assert report.added + report.rejected == report.rows == 1000
    with store() as s:
        pair = s.scalars(select(Pair).order_by(Pair.source_row)).first()
        assert pair.prompt[0]["role"] == "user" and len(pair.prompt) % 2 == 1
        assert "\n\nHuman:" not in pair.chosen
