"""Checks on a row's values that every layout shares.

Reasons name values by their JSON type (null, a number, an object, an array, a boolean,
a string), since that is what a user sees in the file. Text must be storable in both
stores: a lone surrogate (``"\\ud800"``, legal in JSON, not in UTF-8) or a NUL character
(refused by PostgreSQL) rejects the row instead of failing the insert. Lengths are
checked against the column sizes of ``db.schema`` so no insert fails part-way.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from preflens.errors import RowError

MAX_DEPTH = 100  # nesting levels of a JSON row; preference rows need about 4
CATEGORY_MAX = 100  # db.schema Pair.category String(100)
SPLIT_MAX = 50  # db.schema Pair.split String(50)
SOURCE_ID_MAX = 200  # db.schema Pair.source_id String(200)
NAME_MAX = 200  # db.schema Dataset.name String(200)
LABEL_DIGITS = 9  # a label needs one digit; longer digit strings are not labels
# Characters of one pair (prompt and both responses). PostgreSQL indexes every pair for
# search in a tsvector of at most 1 MiB: 1.08M characters of distinct words measured
# 1.44 MB and failed the insert, so a pair stays well below that on both stores.
MAX_PAIR_CHARS = 300_000
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# Letters and symbols that draw nothing (Hangul fillers, the blank Braille pattern).
_BLANK_CHARS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
_LABEL_TEXT = re.compile(rf"[+-]?[0-9]{{1,{LABEL_DIGITS}}}(?:\.0+)?")


class BigNumber:
    """A JSON integer too long for Python's int conversion limit, kept as its digits."""

    __slots__ = ("digits",)

    def __init__(self, digits: str):
        self.digits = digits

    def __repr__(self) -> str:
        return f"a {len(self.digits.lstrip('+-'))}-digit number"


def parse_int(digits: str) -> int | BigNumber:
    """``json.loads(parse_int=...)``: a 5,000-digit integer must not stop the file."""
    return int(digits) if len(digits) <= 4000 else BigNumber(digits)


def describe(value: Any) -> str:
    """The JSON type of ``value`` with its article ("null", "a number", "an object")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, float) and not math.isfinite(value):
        return f"a number ({json.dumps(value)})"
    if isinstance(value, int | float | Decimal | BigNumber):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, bytes | bytearray | memoryview):
        return "binary data"
    if isinstance(value, datetime):
        return "a timestamp"
    if isinstance(value, date):
        return "a date"
    if isinstance(value, time):
        return "a time of day"
    if isinstance(value, timedelta):
        return "a duration"
    return f"a value of type {type(value).__name__}"


def show(value: Any) -> str:
    """A value as a reason quotes it: numbers as written, strings in JSON quotes (cut at
    30 characters), anything else by its type."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    if isinstance(value, BigNumber):
        return repr(value)
    if isinstance(value, str):
        cut = value if len(value) <= 30 else value[:30] + "..."
        more = f" ({len(value):,} characters)" if len(value) > 30 else ""
        return storable(json.dumps(cut, ensure_ascii=False)) + more
    if isinstance(value, bool):
        return f"a boolean ({json.dumps(value)})"
    return describe(value)


def storable(text: str) -> str:
    """``text`` with NUL characters and lone surrogates written as escapes, so that it can
    be stored, hashed and printed (raw rows, reasons, names)."""
    return _UNSTORABLE.sub(lambda m: ascii(m.group())[1:-1], text)


def check_storable(text: str, where: str) -> str:
    """``text`` itself, or a ``RowError`` when the store cannot hold it."""
    found = _UNSTORABLE.search(text)
    if found:
        char = found.group()
        what = "a NUL character" if char == "\x00" else f"a lone surrogate ({ascii(char)[1:-1]})"
        raise RowError(f"{where} holds {what}, which cannot be stored as text")
    return text


def is_blank(text: str) -> bool:
    """True for text that shows nothing: whitespace, zero-width and other format
    characters, control characters, blank fillers."""
    return all(
        ch.isspace() or ch in _BLANK_CHARS or unicodedata.category(ch) in ("Cf", "Cc", "Zs")
        for ch in text
    )


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether ``value`` nests lists/objects more than ``limit`` levels (no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, Mapping):
            children = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def require(row: Mapping[str, Any], key: str) -> Any:
    """The value of ``key``; missing or null is a ``RowError``."""
    if key not in row:
        raise RowError(f"missing field `{key}`")
    if row[key] is None:
        raise RowError(f"field `{key}` is null")
    return row[key]


def text_field(row: Mapping[str, Any], key: str) -> str:
    """Non-blank, storable text."""
    value = require(row, key)
    if not isinstance(value, str):
        raise RowError(f"field `{key}` is {describe(value)}, expected text")
    if is_blank(value):
        raise RowError(f"empty text in `{key}`")
    return check_storable(value, f"field `{key}`")


def optional_text(row: Mapping[str, Any], key: str, limit: int) -> str | None:
    """An optional text column such as ``category`` or ``split``: absent, null or blank
    is None; any other type, or text longer than the column, rejects the row."""
    if not key or key not in row:
        return None
    value = row[key]
    if value is None:
        return None
    if not isinstance(value, str):
        raise RowError(f"field `{key}` is {describe(value)}, expected text")
    value = value.strip()
    if is_blank(value):
        return None
    check_storable(value, f"field `{key}`")
    if len(value) > limit:
        raise RowError(
            f"field `{key}` is {len(value):,} characters long, over the limit of {limit}"
        )
    return value


def label_field(row: Mapping[str, Any], key: str, allowed: tuple[int, ...]) -> int:
    """An integer label (also from CSV text such as "1" or "1.0"), checked against
    ``allowed``."""
    value = require(row, key)
    label: Any = value
    if isinstance(value, float) and value.is_integer():
        label = int(value)
    elif isinstance(value, str) and _LABEL_TEXT.fullmatch(value.strip()):
        label = int(float(value.strip()))
    if isinstance(label, bool) or not isinstance(label, int) or label not in allowed:
        expected = ", ".join(map(str, allowed[:-1])) + f" or {allowed[-1]}"
        raise RowError(f"invalid label: `{key}` is {show(value)}, expected {expected}")
    return label


def flag_field(row: Mapping[str, Any], key: str) -> bool | None:
    """A yes/no flag from JSON (true/false, 1/0) or CSV text ("True", "false", "1", "0");
    None when absent or unreadable (flags only describe, they never reject a row)."""
    value = row.get(key)
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        return {"true": True, "false": False, "1": True, "0": False}.get(value.strip().lower())
    return None
