"""``preflens export-dataset``: a dataset's pairs in TRL's conversational layout, which
``preflens ingest`` reads back to the same pairs.

Each row: ``prompt`` (the chat messages), ``chosen`` and ``rejected`` (each one assistant
message), ``split``, ``category`` and, when the pair came with one, its source ``id``.
Formats: ``jsonl`` (one row per line), ``parquet``, and ``trl`` (a ``datasets`` folder
written by ``save_to_disk``, one split per split of the dataset, which TRL's trainers
load with ``load_from_disk``). Flagged pairs (``preflens flags``) can be left out
(``drop_flagged``) or written with chosen and rejected swapped (``flip_flagged``), which
makes the cleaned dataset that ``ingest`` reads back. The output is written beside its
final path and renamed into place, so a failed export never leaves a partial file behind.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from db import read
from db.flags import flagged_pair_ids, parse_labels
from db.lookup import dataset_record
from db.read.inputs import require_pairs
from preflens.errors import DataFormatError

FORMATS = ("trl", "jsonl", "parquet")
BATCH = 1000


@dataclass
class ExportedDataset:
    dataset: str
    split: str | None
    format: str
    path: Path
    pairs: int
    dropped: int = 0
    flipped: int = 0
    drop_labels: tuple[str, ...] = ()
    flip_labels: tuple[str, ...] = ()


def check_output(path: str | Path, fmt: str, overwrite: bool) -> Path:
    """The output path, checked before any work: a known format, an existing folder to
    write in, and nothing there already unless ``overwrite``."""
    if fmt not in FORMATS:
        raise DataFormatError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    out = Path(path).expanduser()
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise DataFormatError(f"{parent} is not a folder; create it or pick another -o PATH")
    if not os.access(parent, os.W_OK):
        raise DataFormatError(f"{parent} is not writable; pick another -o PATH")
    if out.exists():
        if not overwrite:
            raise DataFormatError(f"{out} exists; pass --overwrite to replace it")
        if out.is_dir() != (fmt == "trl"):
            what = "a folder" if out.is_dir() else "a file"
            raise DataFormatError(
                f"{out} is {what}; --format {fmt} writes a {'folder' if fmt == 'trl' else 'file'}"
            )
    return out


def trl_row(pair: Any) -> dict[str, Any]:
    """One pair in TRL's conversational preference layout."""
    return {
        "prompt": pair.prompt,
        "chosen": [{"role": "assistant", "content": pair.chosen}],
        "rejected": [{"role": "assistant", "content": pair.rejected}],
        "split": pair.split,
        "category": pair.category,
        "id": pair.source_id,
    }


def flipped_row(pair: Any) -> dict[str, Any]:
    """One pair with its label reversed: the labelled-rejected response becomes chosen."""
    row = trl_row(pair)
    row["chosen"], row["rejected"] = row["rejected"], row["chosen"]
    return row


def _rows(
    session: Session,
    dataset_id: int,
    split: str | None,
    drop: set[int] | None = None,
    flip: set[int] | None = None,
    counts: dict[str, int] | None = None,
) -> Iterator[dict[str, Any]]:
    drop, flip = drop or set(), flip or set()
    counts = counts if counts is not None else {}
    stmt = read.pairs_query(dataset_id, split).execution_options(yield_per=BATCH)
    for pair in session.scalars(stmt):
        if pair.id in drop:
            counts["dropped"] = counts.get("dropped", 0) + 1
        elif pair.id in flip:
            counts["flipped"] = counts.get("flipped", 0) + 1
            yield flipped_row(pair)
        else:
            yield trl_row(pair)


def _write_jsonl(rows: Iterator[dict[str, Any]], path: Path) -> int:
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    return n


def _table(rows: list[dict[str, Any]]) -> Any:
    import pyarrow as pa

    message = pa.struct([("role", pa.string()), ("content", pa.string())])
    schema = pa.schema(
        [
            ("prompt", pa.list_(message)),
            ("chosen", pa.list_(message)),
            ("rejected", pa.list_(message)),
            ("split", pa.string()),
            ("category", pa.string()),
            ("id", pa.string()),
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)


def _write_parquet(rows: Iterator[dict[str, Any]], path: Path) -> int:
    import pyarrow.parquet as pq

    n, writer, batch = 0, None, []
    try:
        for row in rows:
            batch.append(row)
            if len(batch) == BATCH:
                table = _table(batch)
                writer = writer or pq.ParquetWriter(str(path), table.schema)
                writer.write_table(table)
                n, batch = n + len(batch), []
        if batch or writer is None:
            table = _table(batch)
            writer = writer or pq.ParquetWriter(str(path), table.schema)
            writer.write_table(table)
            n += len(batch)
    finally:
        if writer is not None:
            writer.close()
    return n


def _write_trl(rows: Iterator[dict[str, Any]], path: Path) -> int:
    from datasets import Dataset, DatasetDict

    by_split: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_split.setdefault(row.pop("split"), []).append(row)
    parts = {name: Dataset(_table(part).drop_columns(["split"])) for name, part in by_split.items()}
    DatasetDict(parts).save_to_disk(str(path))
    return sum(len(p) for p in by_split.values())


def _replace(tmp: Path, out: Path) -> None:
    """Move the finished output into place (replacing an old one only now)."""
    if out.is_dir():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.replace(out, old / out.name)
        os.replace(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, out)


def export_dataset(
    make_session: sessionmaker[Session],
    dataset: str | int,
    path: str | Path,
    fmt: str = "jsonl",
    split: str | None = None,
    overwrite: bool = False,
    drop_flagged: Sequence[str] = (),
    flip_flagged: Sequence[str] = (),
) -> ExportedDataset:
    """Write ``dataset``/``split`` (None: every split) to ``path`` in format ``fmt``;
    pairs flagged with one of ``drop_flagged`` are left out, those flagged with one of
    ``flip_flagged`` are written with chosen and rejected swapped."""
    out = check_output(path, fmt, overwrite)
    drop_labels = tuple(parse_labels(drop_flagged)) if drop_flagged else ()
    flip_labels = tuple(parse_labels(flip_flagged)) if flip_flagged else ()
    both = set(drop_labels) & set(flip_labels)
    if both:
        raise DataFormatError(
            f"flag {', '.join(sorted(both))} is both dropped and flipped; name it in one option"
        )
    with make_session() as session:
        ds = dataset_record(session, dataset)
        require_pairs(ds)
        if read.count_pairs(session, ds.id, split) == 0:
            where = f"split {split!r} of " if split else ""
            raise DataFormatError(f"{where}dataset {ds.name!r} holds no pairs; nothing to export")
        name, dataset_id = ds.name, ds.id
        drop = flagged_pair_ids(session, ds.id, drop_labels) if drop_labels else set()
        flip = flagged_pair_ids(session, ds.id, flip_labels) if flip_labels else set()
    counts: dict[str, int] = {}
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        tmp = work / out.name
        with make_session() as session:
            rows = _rows(session, dataset_id, split, drop, flip, counts)
            writer = {"jsonl": _write_jsonl, "parquet": _write_parquet, "trl": _write_trl}[fmt]
            n = writer(rows, tmp)
        _replace(tmp, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return ExportedDataset(
        name,
        split,
        fmt,
        out,
        n,
        counts.get("dropped", 0),
        counts.get("flipped", 0),
        drop_labels,
        flip_labels,
    )
