"""Reading raw rows from local files, saved ``datasets`` folders or the hub.

``iter_rows`` yields ``SourceRow`` objects: a 1-based row number within its part of
the source (for JSON Lines: the line number), the row as a dict or a ``RowError``
when the row itself cannot be read (invalid JSON, undecodable bytes, nesting too deep),
the split the source itself names (a ``datasets`` split), and the raw text to keep for
reports. A source that cannot be read at all raises ``DataFormatError`` (exit 2).
The readers live in ``training.readers``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from preflens.errors import DataFormatError
from training.readers.rows import RAW_KEEP, SourceRow
from training.readers.tables import read_hub, read_parquet, read_saved_dataset
from training.readers.text import read_csv, read_json, read_jsonl

__all__ = ["RAW_KEEP", "SourceRow", "iter_rows"]

READERS = {
    ".jsonl": read_jsonl,
    ".ndjson": read_jsonl,
    ".json": read_json,
    ".csv": read_csv,
    ".parquet": read_parquet,
}


def iter_rows(source: str | Path) -> Iterator[SourceRow]:
    """Rows of a JSON, JSONL, CSV or Parquet file, a saved ``datasets`` folder, or a hub name."""
    path = Path(source).expanduser()
    if path.is_dir():
        yield from read_saved_dataset(path)
        return
    if path.is_file():
        suffix = path.suffix.lower()
        if suffix not in READERS:
            raise DataFormatError(
                f"{path}: unknown file type {suffix!r}; use .json, .jsonl, .csv or .parquet"
            )
        yield from READERS[suffix](path)
        return
    if str(source).startswith((".", "/", "~")) or path.suffix:
        raise DataFormatError(f"{source}: no such file or folder")
    yield from read_hub(str(source))
