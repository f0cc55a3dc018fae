"""``preflens export-dataset``: TRL's layout that ``preflens ingest`` reads back to the same
pairs, written atomically, its output path checked before any work."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from db.schema import Dataset, Pair
from preflens.cli.main import main
from preflens.errors import DataFormatError
from tests.factories import write_jsonl
from training.imports.export_dataset import export_dataset
from training.jobs.ingest import ingest

ROWS = [
    {"id": "a1", "prompt": "What is 2+2?", "chosen": "4.", "rejected": "5.", "category": "math"},
    {"id": 7, "prompt": "Capital of France?", "chosen": "Paris.", "rejected": "Rome."},
    {
        "prompt": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Say hi"},
            {"role": "assistant", "content": "Hello?"},
            {"role": "user", "content": "Again, with  spaces "},
        ],
        "chosen": "hi",
        "rejected": "go away",
        "split": "train",
    },
    {"prompt": "Ünïcode — ok?", "chosen": "Ja ✓", "rejected": "Nein", "split": "train"},
]


@pytest.fixture
def cli_store(store, db_url, monkeypatch):
    """The test's store, also the one the command line opens."""
    from preflens.config import get_settings

    monkeypatch.setenv("PREFLENS_DATABASE_URL", db_url)
    get_settings.cache_clear()
    return store


def _pairs(make_session, name: str) -> list[tuple]:
    with make_session() as s:
        ds = s.scalars(select(Dataset).where(Dataset.name == name)).one()
        pairs = s.scalars(select(Pair).where(Pair.dataset_id == ds.id).order_by(Pair.id))
        return [
            (p.prompt, p.chosen, p.rejected, p.split, p.category, p.source_id, p.content_hash)
            for p in pairs
        ]


@pytest.mark.parametrize("fmt", ["jsonl", "parquet", "trl"])
def test_ingest_export_ingest_gives_identical_pairs(store, tmp_path, fmt):
    src = write_jsonl(tmp_path / "src.jsonl", ROWS)
    ingest(store, src, name="orig", split="test", progress=False)
    out = tmp_path / ("out" if fmt == "trl" else f"out.{fmt}")
    result = export_dataset(store, "orig", out, fmt)
    assert result.pairs == len(ROWS)
    report = ingest(store, out, name="back", progress=False)
    assert report.format == "trl" and report.rejected == 0
    original = _pairs(store, "orig")
    assert {p[5] for p in original} == {"a1", "7", None}
    assert sorted(map(repr, _pairs(store, "back"))) == sorted(map(repr, original))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp left


def test_one_split_only_and_the_layout_is_trl_messages(cli_store, tmp_path):
    ingest(
        cli_store, write_jsonl(tmp_path / "src.jsonl", ROWS), name="d", split="test", progress=False
    )
    out = tmp_path / "test.jsonl"
    assert (
        main(["export-dataset", "d", "--split", "train", "--format", "jsonl", "-o", str(out)]) == 0
    )
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["split"] for r in rows] == ["train", "train"]
    assert rows[0]["chosen"] == [{"role": "assistant", "content": "hi"}]
    assert rows[0]["prompt"][-1] == {"role": "user", "content": "Again, with  spaces "}


def test_output_is_checked_before_work_and_never_left_half_written(cli_store, tmp_path, capsys):
    store = cli_store
    ingest(store, write_jsonl(tmp_path / "src.jsonl", ROWS), name="d", progress=False)
    out = tmp_path / "out.jsonl"
    out.write_text("keep me", encoding="utf-8")
    assert main(["export-dataset", "d", "--format", "jsonl", "-o", str(out)]) == 2
    assert "exists; pass --overwrite" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == "keep me"
    missing = tmp_path / "no" / "such" / "x.jsonl"
    # The path is refused even for a dataset that does not exist: no work was done first.
    assert main(["export-dataset", "nope", "--format", "jsonl", "-o", str(missing)]) == 2
    assert "is not a folder" in capsys.readouterr().err
    with pytest.raises(DataFormatError, match="holds no pairs"):
        export_dataset(store, "d", tmp_path / "empty.jsonl", "jsonl", split="nosuch")
    assert not (tmp_path / "empty.jsonl").exists()
    assert main(["export-dataset", "d", "--format", "jsonl", "-o", str(out), "--overwrite"]) == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == len(ROWS)
