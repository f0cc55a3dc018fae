"""Ingest preference data into the store: read, validate, split, deduplicate, report.

A bad row never stops an ingest: it is stored in ``rejected_row`` with its row number
and reason. Pairs are identified by a content hash of (prompt, chosen, rejected), so
ingesting the same data twice adds nothing. Rows are committed in chunks.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker
from tqdm.auto import tqdm

from db.schema import Dataset, Pair, RejectedRow
from db.session import writing
from preflens.errors import DataFormatError, RowError
from training.formats import PairRecord, choose_reader
from training.sources import SourceRow, iter_rows

log = logging.getLogger(__name__)
CHUNK = 1000
SAMPLE = 50  # rows looked at to detect the layout


@dataclass
class IngestReport:
    dataset: str
    format: str
    rows: int = 0
    added: int = 0
    duplicates: int = 0
    rejected: int = 0
    splits: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)
    examples: list[tuple[int, str]] = field(default_factory=list)  # (row, reason), first few

    @property
    def readable(self) -> int:
        return self.added + self.duplicates


def content_hash(record: PairRecord) -> str:
    payload = json.dumps([record.prompt, record.chosen, record.rejected], ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def prompt_text(prompt: list[dict[str, str]]) -> str:
    return "\n\n".join(f"{m['role']}: {m['content']}" for m in prompt)


def assign_split(
    record: PairRecord,
    row_split: str | None,
    split: str | None,
    test_fraction: float | None,
    digest: str,
) -> str:
    """The split: named by the row, else by the source, else --split, else hashed."""
    if record.split or row_split:
        return record.split or row_split  # type: ignore[return-value]
    if split:
        return split
    if test_fraction:
        # Hash-based, so a pair lands in the same split on every ingest.
        return "test" if int(digest[:8], 16) / 0xFFFFFFFF < test_fraction else "train"
    return "train"


def ingest(
    make_session: sessionmaker[Session],
    source: str | Path,
    *,
    fmt: str | None = None,
    name: str | None = None,
    split: str | None = None,
    test_fraction: float | None = None,
    prefer: str = "helpful",
    mapping: Mapping[str, str] | None = None,
    progress: bool = True,
) -> IngestReport:
    """Read ``source`` into dataset ``name`` (default: the file's stem)."""
    if test_fraction is not None and not 0 < test_fraction < 1:
        raise DataFormatError(f"--test-fraction is {test_fraction}, expected between 0 and 1")
    rows = iter_rows(source)
    head = list(itertools.islice(rows, SAMPLE))
    sample = [r.row for r in head if isinstance(r.row, dict)]
    if not head:
        raise DataFormatError(f"{source}: no rows")
    reader = choose_reader(sample, fmt, prefer, mapping)
    name = name or Path(str(source).rstrip("/")).stem
    report = IngestReport(dataset=name, format=reader.name)

    with writing(make_session) as session:
        dataset = session.scalars(select(Dataset).where(Dataset.name == name)).first()
        if dataset is None:
            dataset = Dataset(
                name=name,
                source=str(source),
                format=reader.name,
                options={"prefer": prefer, "mapping": dict(mapping or {})},
            )
            session.add(dataset)
            session.flush()
        dataset_id = dataset.id
        seen = set(session.scalars(select(Pair.content_hash).where(Pair.dataset_id == dataset_id)))
        seen_bad = set(
            session.scalars(
                select(RejectedRow.raw_hash).where(RejectedRow.dataset_id == dataset_id)
            )
        )

    pairs: list[dict] = []
    bad: list[dict] = []

    def flush() -> None:
        with writing(make_session) as session:
            if pairs:
                session.execute(insert(Pair), pairs)
            if bad:
                session.execute(insert(RejectedRow), bad)
        pairs.clear()
        bad.clear()

    for item in tqdm(
        itertools.chain(head, rows), desc=f"ingesting {name}", unit="row", disable=not progress
    ):
        report.rows += 1
        try:
            if isinstance(item.row, RowError):
                raise item.row
            record = reader.read(item.row)
        except RowError as err:
            _reject(report, item, err.reason, dataset_id, seen_bad, bad)
        else:
            digest = content_hash(record)
            if digest in seen:
                report.duplicates += 1
            else:
                seen.add(digest)
                chosen_split = assign_split(record, item.split, split, test_fraction, digest)
                report.added += 1
                report.splits[chosen_split] += 1
                pairs.append(
                    {
                        "dataset_id": dataset_id,
                        "split": chosen_split,
                        "source_row": item.number,
                        "prompt": record.prompt,
                        "prompt_text": prompt_text(record.prompt),
                        "chosen": record.chosen,
                        "rejected": record.rejected,
                        "category": record.category,
                        "content_hash": digest,
                    }
                )
        if len(pairs) + len(bad) >= CHUNK:
            flush()
    flush()
    return report


def _reject(
    report: IngestReport,
    item: SourceRow,
    reason: str,
    dataset_id: int,
    seen_bad: set[str],
    bad: list[dict],
) -> None:
    where = f"{item.split} row {item.number}" if item.split else f"row {item.number}"
    report.rejected += 1
    report.reasons[reason] += 1
    if len(report.examples) < 20:
        report.examples.append((item.number, f"{where}: {reason}"))
    raw = item.raw_text()
    raw_hash = hashlib.sha256(f"{item.split}|{item.number}|{raw}".encode()).hexdigest()
    if raw_hash not in seen_bad:  # the same bad row re-ingested is not stored twice
        seen_bad.add(raw_hash)
        bad.append(
            {
                "dataset_id": dataset_id,
                "source_row": item.number,
                "reason": reason,
                "raw": raw,
                "raw_hash": raw_hash,
            }
        )
