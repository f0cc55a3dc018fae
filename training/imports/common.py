"""What every import shares: reading the file's rows, telling its layout, finding the
dataset's pairs a row names, and the report of what was stored and what was refused."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.schema import Pair
from preflens.errors import DataFormatError, RowError
from training.jobs.ingest import prompt_hash
from training.readers.fields import describe, show
from training.readers.rows import SourceRow
from training.readers.text import decode_whole, sniff_encoding
from training.sources import iter_rows

SAMPLE = 50  # rows looked at to tell the layout


@dataclass
class ImportReport:
    """What an import did: rows read, rows stored, rows refused (row number, reason)."""

    what: str  # "generations" | "scores"
    format: str
    detected: bool
    source: str
    rows: int = 0
    stored: int = 0  # rows of the file that were used
    items: int = 0  # rows written to the store (a row may score several answers)
    refused: list[tuple[int, str]] = field(default_factory=list)
    run_id: int | None = None
    run_kind: str = ""
    reused: bool = False
    per_policy: dict[str, int] = field(default_factory=dict)
    added_prompts: int = 0
    summary: dict[str, Any] = field(default_factory=dict)

    def refuse(self, row: int, reason: str) -> None:
        self.refused.append((row, reason))


def _columnar(data: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """A JSON object of equal-length column lists (what ``datasets``' ``to_dict`` writes,
    and so RewardBench's per-example results) as rows; None for any other object. Scalar
    values (RewardBench's ``model``, ``model_type``) are the same for every row."""
    lists = {k: v for k, v in data.items() if isinstance(v, list)}
    if len(lists) < 2 or len({len(v) for v in lists.values()}) != 1:
        return None
    n = len(next(iter(lists.values())))
    scalars = {k: v for k, v in data.items() if k not in lists}
    return [{**scalars, **{k: v[i] for k, v in lists.items()}} for i in range(n)]


def import_rows(path: str | Path) -> Iterator[SourceRow]:
    """The rows of an import file: JSON Lines, a JSON array, a JSON object of columns,
    CSV or Parquet (``training.sources``), numbered from 1."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataFormatError(f"{path}: no such file")
    if path.suffix.lower() == ".json":
        body = decode_whole(path, sniff_encoding(path)).lstrip()
        if body.startswith("{"):
            try:
                data = json.loads(body)
            except (ValueError, RecursionError):
                data = None  # JSON Lines under a .json name, or too deep: read below
            rows = _columnar(data) if isinstance(data, dict) else None
            if rows is not None:
                for number, row in enumerate(rows, start=1):
                    yield SourceRow(number, row)
                return
    yield from iter_rows(path)


def choose_layout(
    rows: Iterator[SourceRow],
    layouts: Mapping[str, frozenset[str]],
    fmt: str | None,
    source: str,
) -> tuple[Iterator[SourceRow], str, bool]:
    """(rows with the sample put back, layout name, whether it was detected): the layout
    named by ``fmt``, else the one whose columns most of the first rows have."""
    head = list(itertools.islice(rows, SAMPLE))
    if not head:
        raise DataFormatError(f"{source}: no rows")
    rows = itertools.chain(head, rows)
    if fmt is not None:
        if fmt not in layouts:
            raise DataFormatError(f"unknown format {fmt!r}; choose one of {', '.join(layouts)}")
        return rows, fmt, False
    sample = [r.row for r in head if isinstance(r.row, dict)]
    fits = {name: sum(cols <= row.keys() for row in sample) for name, cols in layouts.items()}
    best = max(fits.values(), default=0)
    top = [name for name, n in fits.items() if n == best]
    if best == 0 or len(top) > 1:
        seen = sorted({str(k) for row in sample for k in row})[:30]
        known = "; ".join(f"{n}: {', '.join(sorted(c))}" for n, c in layouts.items())
        why = "no known layout fits" if best == 0 else f"the layout is ambiguous ({', '.join(top)})"
        raise DataFormatError(
            f"{source}: {why} the columns [{', '.join(seen)}]. Known layouts: {known}; "
            "pass --format NAME"
        )
    return rows, top[0], True


def number(row: Mapping[str, Any], key: str) -> float:
    """A finite number; a one-element list counts as its element (some RewardBench models
    write each score as a list)."""
    if key not in row:
        raise RowError(f"missing field `{key}`")
    value = row[key]
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, list):
        raise RowError(
            f"field `{key}` holds {len(value)} values; PrefLens stores one score per response"
        )
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RowError(f"field `{key}` is {show(value)}, expected a number")
    if not math.isfinite(value):
        raise RowError(f"field `{key}` is {show(value)}, expected a finite number")
    return float(value)


def _loose(messages: list[dict[str, str]]) -> str:
    """A prompt's messages with surrounding whitespace of each content removed: files
    written by other tools often strip or add a trailing newline."""
    return json.dumps([[m["role"], m["content"].strip()] for m in messages], ensure_ascii=False)


class PromptIndex:
    """The prompts of one dataset split, to find the pair a file's prompt names: by the
    messages exactly as ingest stores them (their hash), else with each message's
    surrounding whitespace ignored. A prompt several pairs share names the first pair
    (lowest id), the one ``preflens generate`` would answer first."""

    def __init__(self, session: Session, dataset_id: int, split: str | None):
        stmt = select(Pair.id, Pair.prompt, Pair.split).where(Pair.dataset_id == dataset_id)
        if split is not None:
            stmt = stmt.where(Pair.split == split)
        self.exact: dict[str, int] = {}
        self.loose: dict[str, int] = {}
        self.last_user: list[tuple[str, int]] = []
        self.split_of: dict[int, str] = {}
        for pair_id, prompt, pair_split in session.execute(stmt.order_by(Pair.id)):
            self.split_of[pair_id] = pair_split
            self.exact.setdefault(prompt_hash(prompt), pair_id)
            self.loose.setdefault(_loose(prompt), pair_id)
            users = [m["content"].strip() for m in prompt if m["role"] == "user"]
            if users and users[-1]:
                self.last_user.append((users[-1], pair_id))
        self.size = len(self.exact)

    def find(self, messages: list[dict[str, str]]) -> int | None:
        """The pair id of these prompt messages, or None."""
        found = self.exact.get(prompt_hash(messages))
        return found if found is not None else self.loose.get(_loose(messages))

    def find_in_template(self, text: str) -> int | None:
        """A prompt rendered through a chat template (what vLLM reports as the prompt): the
        one pair whose last user message occurs in ``text``; None when no pair's does or
        the prompts of several distinct pairs do."""
        hits = {pid for content, pid in self.last_user if content in text}
        if len(hits) > 1:  # a short prompt inside a longer one: keep the longest only
            best = max(len(c) for c, pid in self.last_user if pid in hits and c in text)
            hits = {pid for c, pid in self.last_user if pid in hits and len(c) == best}
        return next(iter(hits)) if len(hits) == 1 else None


def each_row(
    rows: Iterator[SourceRow], report: ImportReport, handle: Callable[[SourceRow], None]
) -> None:
    """Call ``handle`` on every readable row; a ``RowError`` (from reading or handling)
    refuses that row with its number and reason."""
    for item in rows:
        report.rows += 1
        try:
            if isinstance(item.row, RowError):
                raise item.row
            if not isinstance(item.row, dict):
                raise RowError(f"the row is {describe(item.row)}, expected an object")
            handle(item)
        except RowError as err:
            report.refuse(item.number, err.reason)
