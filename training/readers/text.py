"""JSON Lines, JSON and CSV sources, read so that one bad row never stops the file.

Encodings: UTF-8, with or without a byte-order mark (Excel's "CSV UTF-8" writes one);
UTF-16 and UTF-32 when a byte-order mark says so (or UTF-16 whose first characters are
ASCII, as every JSON file's and most CSV headers are). UTF-8 files are read row by row,
so a row with bytes that are not UTF-8 is one rejected row; a UTF-16/32 file is decoded
whole first, so a broken one is an error before anything is stored.

Per row, JSON that Python cannot take is a reason, not a crash: nesting deeper than
``MAX_DEPTH`` levels, integers with thousands of digits (kept as ``BigNumber``), and
syntax errors, reported at their column within the line.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from preflens.errors import DataFormatError, RowError
from training.readers.fields import MAX_DEPTH, describe, parse_int, too_deep
from training.readers.rows import SourceRow

CSV_FIELD_LIMIT = 2**31 - 1  # Python's default (131,072 characters) is a long answer
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
TOO_DEEP = f"invalid JSON: nested deeper than {MAX_DEPTH} levels"


def sniff_encoding(path: Path) -> str:
    """The file's encoding from its byte-order mark (default UTF-8)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(4)
    except OSError as exc:
        raise DataFormatError(f"{path}: cannot read the file ({exc.strerror})") from exc
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    if len(head) == 4 and head[1] == head[3] == 0 and head[0] and head[2]:
        return "utf-16-le"  # no mark, but ASCII text in UTF-16 little-endian
    if len(head) == 4 and head[0] == head[2] == 0 and head[1] and head[3]:
        return "utf-16-be"
    return "utf-8"


def decode_whole(path: Path, encoding: str) -> str:
    """The whole file as text; bytes that do not decode are an error for the file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataFormatError(f"{path}: cannot read the file ({exc.strerror})") from exc
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        name = "UTF-8" if encoding == "utf-8-sig" else encoding.upper()
        raise DataFormatError(
            f"{path} is not {name} text (byte {exc.start}); save it as UTF-8"
        ) from exc


def parse_row(number: int, text: str) -> SourceRow:
    """One JSON object as a row, or the reason it is not one."""
    try:
        value = json.loads(text, parse_int=parse_int)
    except RecursionError:
        return SourceRow(number, RowError(TOO_DEEP), raw=text)
    except json.JSONDecodeError as exc:
        where = f"column {exc.colno}"
        if exc.lineno > 1:
            where = f"line {exc.lineno}, {where}"
        return SourceRow(number, RowError(f"invalid JSON: {exc.msg} ({where})"), raw=text)
    except ValueError as exc:  # anything else Python's decoder refuses
        return SourceRow(number, RowError(f"invalid JSON: {exc}"), raw=text)
    return as_row(number, value, text)


def as_row(number: int, value: Any, raw: str | None = None) -> SourceRow:
    """A decoded JSON value as a row: it must be an object of sane depth."""
    if not isinstance(value, dict):
        reason = f"row is {describe(value)}, expected an object"
        return SourceRow(number, RowError(reason), raw=raw or _dump(value))
    if too_deep(value):
        return SourceRow(number, RowError(TOO_DEEP), raw=raw or "<nested too deeply>")
    return SourceRow(number, value)


def _dump(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (RecursionError, ValueError):
        return "<nested too deeply>"


def _lines(path: Path) -> Iterator[tuple[int, str | RowError, str]]:
    """(line number, text or the reason it is unreadable, raw text) per non-blank line."""
    encoding = sniff_encoding(path)
    if encoding not in ("utf-8", "utf-8-sig"):
        text = decode_whole(path, encoding)
        for number, line in enumerate(text.split("\n"), start=1):
            if line.strip():
                yield number, line.rstrip("\r"), line
        return
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise DataFormatError(f"{path}: cannot read the file ({exc.strerror})") from exc
    with fh:
        for number, data in enumerate(fh, start=1):
            if number == 1 and data.startswith(codecs.BOM_UTF8):
                data = data[len(codecs.BOM_UTF8) :]
            if not data.strip():
                continue
            try:
                line = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                reason = RowError(f"undecodable text: invalid UTF-8 at byte {exc.start}")
                yield number, reason, data.decode("utf-8", errors="replace")
                continue
            yield number, line.rstrip("\r\n"), line


def read_jsonl(path: Path) -> Iterator[SourceRow]:
    """One JSON object per line; row numbers are line numbers."""
    for number, line, raw in _lines(path):
        if isinstance(line, RowError):
            yield SourceRow(number, line, raw=raw)
        else:
            yield parse_row(number, line)


def read_json(path: Path) -> Iterator[SourceRow]:
    """A JSON array of rows, an object holding one array, or (many ".json" files are)
    JSON Lines. Row numbers are 1-based positions in the array."""
    text = decode_whole(path, sniff_encoding(path))
    body = text.lstrip()
    if not body:
        return
    try:
        data = json.loads(body, parse_int=parse_int)
    except RecursionError as exc:
        raise DataFormatError(f"{path}: {TOO_DEEP}") from exc
    except ValueError as exc:
        if body.startswith("{"):
            yield from read_jsonl(path)  # JSON Lines: "Extra data" after the first object
            return
        raise DataFormatError(f"{path} is not valid JSON: {exc}") from exc
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list)]
        if len(lists) != 1:
            raise DataFormatError(f"{path}: expected a list of rows, or an object holding one")
        data = lists[0]
    if not isinstance(data, list):
        raise DataFormatError(f"{path}: expected a list of rows, found {describe(data)}")
    for number, value in enumerate(data, start=1):
        yield as_row(number, value)


def _has_bad_bytes(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def read_csv(path: Path) -> Iterator[SourceRow]:
    """A CSV file with a header row; row numbers count records after the header.

    A record with bytes that are not UTF-8, or with more or fewer values than the header
    has columns (an unquoted comma shifts every later field), is a rejected row.
    """
    csv.field_size_limit(CSV_FIELD_LIMIT)
    encoding = sniff_encoding(path)
    if encoding in ("utf-8", "utf-8-sig"):
        # surrogateescape keeps undecodable bytes visible per row instead of failing the file.
        fh: Any = path.open(newline="", encoding="utf-8-sig", errors="surrogateescape")
    else:
        fh = io.StringIO(decode_whole(path, encoding), newline="")
    with fh:
        records = csv.reader(fh)
        try:
            header = next(records, None)
        except csv.Error as exc:
            raise DataFormatError(f"{path}: cannot read the CSV header: {exc}") from exc
        if not header:
            return
        if any(_has_bad_bytes(h) for h in header):
            raise DataFormatError(f"{path}: the CSV header is not UTF-8 text; save it as UTF-8")
        yield from _csv_records(records, header)


def _csv_records(records: Iterator[list[str]], header: list[str]) -> Iterator[SourceRow]:
    number = 0
    while True:
        try:
            values = next(records)
        except StopIteration:
            return
        except csv.Error as exc:  # the reader goes on with the next line
            number += 1
            yield SourceRow(number, RowError(f"unreadable CSV record: {exc}"), raw="")
            continue
        if not values:
            continue  # a blank line
        number += 1
        raw = ",".join(
            v.encode("utf-8", "surrogateescape").decode("utf-8", "replace") for v in values
        )
        if any(_has_bad_bytes(v) for v in values):
            yield SourceRow(number, RowError("undecodable text: invalid UTF-8"), raw=raw)
        elif len(values) != len(header):
            reason = (
                f"CSV record has {len(values)} values but the header names {len(header)} columns"
            )
            yield SourceRow(number, RowError(reason), raw=raw)
        else:
            yield SourceRow(number, dict(zip(header, values, strict=True)))
