"""Reading raw rows from local files, saved ``datasets`` folders or the hub.

``iter_rows`` yields ``SourceRow`` objects: a 1-based row number within its part of
the source (for JSON Lines: the line number), the row as a dict or a ``RowError``
when the row itself cannot be read (invalid JSON, undecodable bytes), the split the
source itself names (a ``datasets`` split), and the raw text to keep for reports.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from preflens.errors import DataFormatError, RowError

log = logging.getLogger(__name__)
RAW_KEEP = 10_000  # characters of a bad row kept for the report


@dataclass
class SourceRow:
    number: int
    row: dict[str, Any] | RowError
    split: str | None = None
    raw: str | None = None

    def raw_text(self) -> str:
        if self.raw is not None:
            return self.raw[:RAW_KEEP]
        return json.dumps(self.row, ensure_ascii=False, default=str)[:RAW_KEEP]


def _jsonl(path: Path) -> Iterator[SourceRow]:
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError as exc:
                raw = line.decode("utf-8", errors="replace")
                yield SourceRow(
                    number,
                    RowError(f"undecodable text: invalid UTF-8 at byte {exc.start}"),
                    raw=raw,
                )
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                yield SourceRow(
                    number, RowError(f"invalid JSON: {exc.msg} at column {exc.colno}"), raw=text
                )
                continue
            if not isinstance(value, dict):
                yield SourceRow(
                    number,
                    RowError(f"row is a JSON {type(value).__name__}, expected an object"),
                    raw=text,
                )
            else:
                yield SourceRow(number, value)


def _json(path: Path) -> Iterator[SourceRow]:
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise DataFormatError(f"{path} is not UTF-8 text (byte {exc.start})") from exc
    except json.JSONDecodeError:
        yield from _jsonl(path)  # many ".json" files are JSON Lines
        return
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list)]
        if len(lists) != 1:
            raise DataFormatError(f"{path}: expected a list of rows, or an object holding one")
        data = lists[0]
    if not isinstance(data, list):
        raise DataFormatError(f"{path}: expected a list of rows")
    for number, value in enumerate(data, start=1):
        if isinstance(value, dict):
            yield SourceRow(number, value)
        else:
            yield SourceRow(
                number,
                RowError(f"row is a JSON {type(value).__name__}, expected an object"),
                raw=json.dumps(value, ensure_ascii=False, default=str),
            )


def _csv(path: Path) -> Iterator[SourceRow]:
    # surrogateescape keeps undecodable bytes visible per row instead of failing the file.
    with path.open(newline="", encoding="utf-8", errors="surrogateescape") as fh:
        for number, row in enumerate(csv.DictReader(fh), start=1):
            values = [v for v in row.values() if isinstance(v, str)]
            if any(any("\udc80" <= ch <= "\udcff" for ch in v) for v in values):
                raw = ",".join(
                    v.encode("utf-8", "surrogateescape").decode("utf-8", "replace") for v in values
                )
                yield SourceRow(number, RowError("undecodable text: invalid UTF-8"), raw=raw)
            else:
                yield SourceRow(number, {k: v for k, v in row.items() if k is not None})


def _parquet(path: Path) -> Iterator[SourceRow]:
    import pyarrow.parquet as pq

    number = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=1024):
        for row in batch.to_pylist():
            number += 1
            yield SourceRow(number, row)


def _hf_dataset(obj: Any) -> Iterator[SourceRow]:
    from datasets import DatasetDict, IterableDatasetDict

    parts = obj.items() if isinstance(obj, DatasetDict | IterableDatasetDict) else [(None, obj)]
    for split, part in parts:
        for number, row in enumerate(part, start=1):
            yield SourceRow(number, dict(row), split=split)


def iter_rows(source: str | Path) -> Iterator[SourceRow]:
    """Rows of a JSON, JSONL, CSV or Parquet file, a saved ``datasets`` folder, or a hub name."""
    path = Path(source).expanduser()
    if path.is_dir():
        from datasets import load_from_disk

        try:
            obj = load_from_disk(str(path))
        except (FileNotFoundError, ValueError) as exc:
            raise DataFormatError(
                f"{path} is a folder but not a saved `datasets` dataset: {exc}"
            ) from exc
        yield from _hf_dataset(obj)
        return
    if path.is_file():
        suffix = "".join(path.suffixes[-1:]).lower()
        readers = {
            ".jsonl": _jsonl,
            ".ndjson": _jsonl,
            ".json": _json,
            ".csv": _csv,
            ".parquet": _parquet,
        }
        if suffix not in readers:
            raise DataFormatError(
                f"{path}: unknown file type {suffix!r}; use .json, .jsonl, .csv or .parquet"
            )
        yield from readers[suffix](path)
        return
    if str(source).startswith((".", "/", "~")) or path.suffix:
        raise DataFormatError(f"{source}: no such file or folder")
    from datasets import load_dataset

    log.info("loading %s from the dataset hub", source)
    try:
        obj = load_dataset(str(source))
    except Exception as exc:  # the hub client raises many types; report them all the same way
        raise DataFormatError(
            f"{source} is not a local file or folder, and loading it from the hub failed "
            f"(offline?): {type(exc).__name__}: {exc}"
        ) from exc
    yield from _hf_dataset(obj)
