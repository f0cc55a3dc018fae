"""The bad-input corpus (tests/data/bad): every file through the command line.

``expected.json`` gives, per file, the options, the exit code (0: some pairs stored, 1:
no pair could be stored, 2: the source or an option is unusable), the layout, the pairs
stored and, per rejected row, its row number and reason. Large inputs (200k nesting, a
131k-character CSV field, 5,000-digit numbers, a 360k-character pair) and binary ones
are generated here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db.schema import Dataset, Pair, RejectedRow
from preflens.cli.main import main
from tests.factories import write_jsonl

BAD = Path(__file__).resolve().parents[1] / "data" / "bad"
MANIFEST: dict[str, dict] = json.loads((BAD / "expected.json").read_text(encoding="utf-8"))
EXAMPLE = re.compile(r"^    e\.g\. (?:\S+ )?row (\d+): (.*)$")


def _trl(i: int, **extra) -> dict:
    return {
        "prompt": f"Question {i}?",
        "chosen": f"Good answer {i}.",
        "rejected": f"Poor {i}.",
        **extra,
    }


def _deep_nesting(path: Path) -> None:
    write_jsonl(path, [_trl(1), "[" * 200_000 + "]" * 200_000, _trl(3)])


def _pair_too_big(path: Path) -> None:
    words = " ".join(f"w{i:07d}" for i in range(40_000))  # 359,999 characters
    write_jsonl(path, [_trl(1), {"prompt": "Q?", "chosen": words, "rejected": "No."}])


def _big_integer(path: Path) -> None:
    digits = "1" * 5000
    row = f'{{"prompt": "Q2?", "chosen": {digits}, "rejected": "x"}}'
    extra = f'{{"prompt": "Q4?", "chosen": "a", "rejected": "b", "score": {digits}}}'
    write_jsonl(path, [_trl(1), row, digits, extra])


def _big_integer_label(path: Path) -> None:
    row = {"question": "Q?", "response_1": "A.", "response_2": "B.", "overall_response": 1}
    big = json.dumps(row).replace('"overall_response": 1', '"overall_response": ' + "2" * 5000)
    write_jsonl(path, [json.dumps(row), big])


def _csv_big_field(path: Path) -> None:
    long = "word " * 28_000  # 140,000 characters, over csv's default field limit
    path.write_text(f"prompt,chosen,rejected\nLong?,{long},Short.\nFine?,Yes.,No.\n")


def _csv_label_digits(path: Path) -> None:
    path.write_text(
        f"question,response_1,response_2,overall_response\nQ1?,A.,B.,{'1' * 5000}\nQ2?,A.,B.,2\n"
    )


def _parquet(path: Path, category) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [_trl(i, category=category) for i in range(2)]
    pq.write_table(pa.Table.from_pylist(rows), path)


def _truncated_parquet(path: Path) -> None:
    _parquet(path, "ok")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _bad_dataset_info(path: Path) -> None:
    from datasets import Dataset as HFDataset

    HFDataset.from_list([_trl(1), _trl(2)]).save_to_disk(str(path))
    (path / "dataset_info.json").write_text('{"features": {"prompt": ')


def _timestamp(path: Path) -> None:
    from datetime import datetime

    _parquet(path, datetime(2024, 1, 2, 3, 4, 5))


GENERATED = {
    "deep_nesting.jsonl": _deep_nesting,
    "big_integer.jsonl": _big_integer,
    "big_integer_label.jsonl": _big_integer_label,
    "csv_big_field.csv": _csv_big_field,
    "pair_too_big.jsonl": _pair_too_big,
    "csv_label_digits.csv": _csv_label_digits,
    "truncated.parquet": _truncated_parquet,
    "bad_dataset_info": _bad_dataset_info,
    "parquet_category_int.parquet": lambda p: _parquet(p, 7),
    "parquet_category_bytes.parquet": lambda p: _parquet(p, b"\x00\x01"),
    "parquet_category_timestamp.parquet": _timestamp,
}


def _source(name: str, case: dict, tmp_path: Path) -> Path:
    if name in GENERATED:
        path = tmp_path / name
        GENERATED[name](path)
        return path
    return BAD / case.get("file", name)


def test_corpus_is_complete():
    on_disk = {p.name for p in BAD.iterdir()} - {"expected.json"}
    listed = {case.get("file", name) for name, case in MANIFEST.items()}
    assert on_disk <= listed, f"files without expectations: {sorted(on_disk - listed)}"
    assert set(GENERATED) <= set(MANIFEST)
    assert len(MANIFEST) >= 40


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_bad_input(name, tmp_path, capsys):
    case = MANIFEST[name]
    source = _source(name, case, tmp_path)
    capsys.readouterr()  # what building the source printed
    code = main(["ingest", str(source), *case.get("args", [])])
    printed = capsys.readouterr()
    assert "Traceback" not in printed.err
    assert code == case["exit"], printed.out + printed.err
    if code == 2:
        errors = [line for line in printed.err.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1 and case["error"] in errors[0]
    else:
        assert f"(layout: {case['layout']})" in printed.out
        examples = [EXAMPLE.match(line) for line in printed.out.splitlines()]
        shown = [[int(m.group(1)), m.group(2)] for m in examples if m]
        assert shown == case["rejected"][:10]

    from db.session import get_sessionmaker

    with get_sessionmaker()() as s:
        datasets = s.scalars(select(Dataset)).all()
        if code != 0:  # a failed ingest leaves nothing behind
            assert datasets == []
            return
        [ds] = datasets
        pairs = s.scalar(select(func.count()).select_from(Pair))
        assert pairs == case["pairs"]
        stored = s.execute(
            select(RejectedRow.source_row, RejectedRow.reason).order_by(RejectedRow.source_row)
        ).all()
        assert [list(r) for r in stored] == case["rejected"]
        if "categories" in case:
            got = dict(s.execute(select(Pair.category, func.count()).group_by(Pair.category)).all())
            assert got == {(k if k != "null" else None): v for k, v in case["categories"].items()}
