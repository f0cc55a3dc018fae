"""Parquet files, saved ``datasets`` folders and hub datasets, row by row.

These libraries read whole blocks at a time, so damage (a fake or truncated Parquet file,
a broken ``dataset_info.json``, a corrupt Arrow shard) is an error for the source, never
a traceback: ``DataFormatError`` with the library's own words.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from preflens.errors import DataFormatError
from training.readers.rows import SourceRow

log = logging.getLogger(__name__)
_SHOWN = 300  # characters of a library's error message kept in ours


def _said(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "..."


def read_parquet(path: Path) -> Iterator[SourceRow]:
    """A Parquet file, in batches of 1,024 rows; row numbers count from 1."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    unreadable = (pa.ArrowException, OSError, ValueError, OverflowError, TypeError)
    try:
        batches = pq.ParquetFile(path).iter_batches(batch_size=1024)
    except unreadable as exc:
        raise DataFormatError(f"{path} is not a readable Parquet file: {_said(exc)}") from exc
    number = 0
    while True:
        try:
            batch = next(batches, None)
            rows = batch.to_pylist() if batch is not None else None
        except unreadable as exc:
            raise DataFormatError(
                f"{path}: Parquet data after row {number} cannot be read: {_said(exc)}"
            ) from exc
        if rows is None:
            return
        for row in rows:
            number += 1
            yield SourceRow(number, row)


def _dataset_rows(obj: Any, what: str) -> Iterator[SourceRow]:
    """The rows of a ``Dataset`` or of every split of a ``DatasetDict``."""
    from datasets import DatasetDict, IterableDatasetDict

    parts: Iterable = (
        obj.items() if isinstance(obj, DatasetDict | IterableDatasetDict) else [(None, obj)]
    )
    for split, part in parts:
        rows = iter(part)
        number = 0
        while True:
            try:
                row = next(rows, None)
            except Exception as exc:  # noqa: BLE001 - Arrow and datasets raise many types
                where = f"{split} row {number}" if split else f"row {number}"
                raise DataFormatError(
                    f"{what}: rows after {where} cannot be read: {_said(exc)}"
                ) from exc
            if row is None:
                break
            number += 1
            yield SourceRow(number, dict(row), split=split)


def read_saved_dataset(path: Path) -> Iterator[SourceRow]:
    """A folder written by ``datasets.save_to_disk``."""
    from datasets import load_from_disk

    try:
        obj = load_from_disk(str(path))
    except Exception as exc:  # noqa: BLE001 - a damaged folder fails in many ways
        raise DataFormatError(
            f"{path} is a folder but not a readable saved `datasets` dataset: {_said(exc)}"
        ) from exc
    yield from _dataset_rows(obj, str(path))


def read_hub(name: str) -> Iterator[SourceRow]:
    """A dataset from the hub (needs network access)."""
    from datasets import load_dataset

    log.info("loading %s from the dataset hub", name)
    try:
        obj = load_dataset(name)
    except Exception as exc:  # noqa: BLE001 - the hub client raises many types
        raise DataFormatError(
            f"{name} is not a local file or folder, and loading it from the hub failed "
            f"(offline?): {_said(exc)}"
        ) from exc
    yield from _dataset_rows(obj, name)
