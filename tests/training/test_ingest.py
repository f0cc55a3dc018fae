"""Ingest into a real SQLite store: counts, bad rows with numbers, no duplicates, splits."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections import Counter

import pytest
from sqlalchemy import func, select

from db import read
from db.schema import Dataset, Pair, RejectedRow
from preflens.cli.main import main
from preflens.errors import DataFormatError
from tests.conftest import HH_FILE, REPO
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
    assert "row 1: identical responses" in printed and "no row could be used as a pair" in printed
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


# ---------------------------------------------------------------- hardening (issues 10, 13)
def _counts(store) -> tuple[int, int, int]:
    with store() as s:
        return (
            s.scalar(select(func.count()).select_from(Dataset)),
            s.scalar(select(func.count()).select_from(Pair)),
            s.scalar(select(func.count()).select_from(RejectedRow)),
        )


def _rows_with_bad(n: int, every: int = 50) -> list[dict]:
    rows = trl_rows(n)
    for i in range(0, n, every):  # distinct bad rows: identical responses
        rows[i] = {"prompt": f"bad {i}", "chosen": "same", "rejected": "same"}
    return rows


def test_two_processes_ingest_one_file_at_once(tmp_path, db_url):
    """Two real `preflens ingest` processes on one SQLite file, same file, same name."""
    from db.migrate import upgrade

    upgrade(db_url)  # the store exists before; what is tested is the ingest
    n, bad = 10_000, 10_000 // 50  # enough chunks that the two interleave
    path = write_jsonl(tmp_path / "both.jsonl", _rows_with_bad(n))
    env = {**os.environ, "PREFLENS_DATABASE_URL": db_url, "PREFLENS_DATA_DIR": str(tmp_path)}
    cmd = [sys.executable, "-m", "preflens", "ingest", str(path), "--name", "both"]
    procs = [
        subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    results = [(p.wait(timeout=300), *map(bytes.decode, p.communicate())) for p in procs]
    for code, out, err in results:
        assert code == 0, out + err
        assert "Traceback" not in err and "IntegrityError" not in err
    added = [int(re.search(r"pairs added: +(\d+)", out).group(1)) for _, out, _ in results]
    assert sum(added) == n - bad  # each pair was added by exactly one of them
    from db.session import get_sessionmaker

    assert _counts(get_sessionmaker(db_url)) == (1, n - bad, bad)


def test_existing_dataset_read_another_way_is_refused(store, tmp_path):
    pku = {
        "prompt": "Is this safe?",
        "response_0": "Yes, with care.",
        "response_1": "Do it blindfolded.",
        "better_response_id": 1,
        "safer_response_id": 0,
    }
    path = write_jsonl(tmp_path / "pku.jsonl", [pku])
    ingest(store, path, name="p", progress=False)
    with pytest.raises(DataFormatError, match=r"--prefer helpful.*--name NEW.*--replace"):
        ingest(store, path, name="p", prefer="safe", progress=False)
    trl = write_jsonl(tmp_path / "trl.jsonl", trl_rows(2))
    with pytest.raises(DataFormatError, match=r"layout pku-saferlhf; this source reads as trl"):
        ingest(store, trl, name="p", progress=False)
    mapping = {"prompt": "prompt", "chosen": "rejected", "rejected": "chosen"}
    ingest(store, trl, name="m", mapping=mapping, progress=False)
    with pytest.raises(DataFormatError, match=r"--map"):
        ingest(store, trl, name="m", mapping={**mapping, "chosen": "chosen"}, progress=False)
    assert _counts(store) == (2, 3, 0)  # nothing was appended


def test_replace_deletes_pairs_rejected_rows_and_runs(store, tmp_path, capsys):
    from db.schema import Run

    path = write_jsonl(tmp_path / "d.jsonl", _rows_with_bad(10, every=5))
    ingest(store, path, name="d", progress=False)
    with store() as s, s.begin():
        ds = s.scalars(select(Dataset)).one()
        s.add_all([Run(kind="score", key=f"k{i}", dataset_id=ds.id) for i in range(2)])
    with store() as s:
        run_ids = sorted(s.scalars(select(Run.id)))
    report = ingest(store, path, name="d", test_fraction=0.5, replace=True, progress=False)
    assert report.replaced.runs == run_ids and report.replaced.pairs == 8
    assert (report.added, report.rejected_new) == (8, 2)
    assert _counts(store) == (1, 8, 2)
    with store() as s:
        assert s.scalar(select(func.count()).select_from(Run)) == 0
    from preflens.cli.output import print_ingest_report

    print_ingest_report(report)
    assert f"and its runs: {run_ids[0]}, {run_ids[1]}" in capsys.readouterr().out


def test_rejected_rows_are_not_doubled_when_row_numbers_move(store, tmp_path):
    rows = _rows_with_bad(10, every=5)
    ingest(store, write_jsonl(tmp_path / "a.jsonl", rows), name="a", progress=False)
    moved = write_jsonl(tmp_path / "a.jsonl", [trl_rows(11)[10], *rows])  # one line on top
    again = ingest(store, moved, name="a", progress=False)
    assert (again.added, again.rejected, again.rejected_new) == (1, 2, 0)
    assert _counts(store) == (1, 9, 2)


def test_test_fraction_splits_by_prompt_and_datasets_reports_shared_prompts(
    store, db_url, tmp_path, monkeypatch, capsys
):
    rows = [
        {"prompt": f"Prompt {i}?", "chosen": f"Good {i}.{k}", "rejected": f"Bad {i}.{k}"}
        for i in range(40)
        for k in range(3)  # three pairs per prompt, as in PKU-SafeRLHF
    ]
    ingest(store, write_jsonl(tmp_path / "p.jsonl", rows), test_fraction=0.5, progress=False)
    with store() as s:
        pairs = s.scalars(select(Pair)).all()
        for p in pairs:  # the rule migration 0003 uses for old rows
            expected = hashlib.sha256(json.dumps(p.prompt, ensure_ascii=False).encode())
            assert p.prompt_hash == expected.hexdigest()
        splits_per_prompt = Counter(
            len({q.split for q in pairs if q.prompt_hash == h})
            for h in {p.prompt_hash for p in pairs}
        )
        assert splits_per_prompt == {1: 40}
        assert {p.split for p in pairs} == {"train", "test"}
        assert read.dataset_counts(s, pairs[0].dataset_id)["shared_prompts"] == 0
    shared = [dict(r, split=split) for r, split in zip(rows[:2], ("train", "test"), strict=True)]
    ingest(store, write_jsonl(tmp_path / "shared.jsonl", shared), progress=False)
    with store() as s:
        ds = s.scalars(select(Dataset).where(Dataset.name == "shared")).one()
        assert read.dataset_counts(s, ds.id)["shared_prompts"] == 1
    from preflens.config import get_settings

    monkeypatch.setenv("PREFLENS_DATABASE_URL", db_url)
    get_settings.cache_clear()
    capsys.readouterr()
    assert main(["datasets"]) == 0
    listing = capsys.readouterr().out.split("shared ")[1]
    assert "prompts found in more than one split: 1" in listing


def test_source_failing_part_way_takes_back_what_it_wrote(store, tmp_path, monkeypatch):
    import training.jobs.ingest as job
    from training.sources import iter_rows

    def failing(source):
        yield from iter_rows(source)
        raise DataFormatError("the disk went away")

    path = write_jsonl(tmp_path / "f.jsonl", trl_rows(2500))
    monkeypatch.setattr(job, "iter_rows", failing)
    with pytest.raises(DataFormatError, match="went away"):
        ingest(store, path, name="f", progress=False)
    assert _counts(store) == (0, 0, 0)  # the new dataset is gone
    monkeypatch.undo()
    ingest(store, write_jsonl(tmp_path / "g.jsonl", trl_rows(5)), name="f", progress=False)
    monkeypatch.setattr(job, "iter_rows", failing)
    with pytest.raises(DataFormatError):
        ingest(store, path, name="f", progress=False)
    assert _counts(store) == (1, 5, 0)  # the existing dataset keeps only its own rows


def test_cli_bad_rows_only_leave_no_dataset(tmp_path, capsys):
    bad = write_jsonl(
        tmp_path / "bad.jsonl", ['{"prompt": "Q", "chosen": "\\ud800", "rejected": "b"}']
    )
    assert main(["ingest", str(bad)]) == 1
    printed = capsys.readouterr().out
    assert "lone surrogate (\\ud800)" in printed and "kept nothing in the store" in printed
    assert main(["datasets"]) == 0
    assert "no datasets yet" in capsys.readouterr().out


def test_replace_with_a_source_of_no_usable_pair_keeps_the_old_dataset(store, tmp_path):
    ingest(store, write_jsonl(tmp_path / "d.jsonl", trl_rows(3)), name="d", progress=False)
    rows = [{"prompt": f"Q{i}", "chosen": "same", "rejected": "same"} for i in range(1500)]
    wrong = write_jsonl(tmp_path / "wrong.jsonl", rows)
    report = ingest(store, wrong, name="d", replace=True, progress=False)
    assert (report.added, report.rejected, report.kept, report.replaced) == (0, 1500, False, None)
    assert _counts(store) == (1, 3, 0)  # the old dataset is untouched


def test_a_pair_too_big_for_the_search_index_is_a_rejected_row(store, tmp_path):
    """On PostgreSQL such a pair failed the insert (tsvector over 1 MiB) and the ingest."""
    import random
    import string

    rnd = random.Random(0)
    words = " ".join("".join(rnd.choices(string.ascii_lowercase, k=8)) for _ in range(120_000))
    rows = [{"prompt": "Q?", "chosen": words, "rejected": "Short."}, *trl_rows(2)]
    report = ingest(store, write_jsonl(tmp_path / "big.jsonl", rows), progress=False)
    assert (report.added, report.rejected) == (2, 1)
    [(_, reason)] = report.examples
    assert reason == (
        "row 1: pair is 1,080,007 characters long (prompt and both responses), "
        "over the limit of 300,000"
    )
