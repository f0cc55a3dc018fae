"""Ingest preference data into the store: read, validate, split, deduplicate, report.

A bad row never stops an ingest: it is stored in ``rejected_row`` with its row number
and reason. A source that cannot be read at all is a ``DataFormatError`` and leaves
nothing behind. Pairs are identified by a content hash of (prompt, chosen, rejected),
rejected rows by a hash of their raw text (not their row number), so ingesting the same
data twice adds nothing. Rows are committed in chunks (a stopped ingest resumes when
rerun); how they are written lives in ``training.jobs.ingest_store``.
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

from sqlalchemy.orm import Session, sessionmaker
from tqdm.auto import tqdm

from preflens.errors import DataFormatError, RowError
from training.formats import PairRecord, Reader, choose_reader
from training.jobs.ingest_store import DatasetWriter, Replaced
from training.readers.fields import NAME_MAX, SPLIT_MAX, is_blank, storable
from training.sources import SourceRow, iter_rows

log = logging.getLogger(__name__)
CHUNK = 1000
SAMPLE = 50  # rows looked at to detect the layout
EXAMPLES = 20  # (row, reason) examples kept in a report
# Rejected rows held back while no pair has been read yet: the dataset (and, with
# --replace, the deletion of the old one) waits for a first pair up to this many rows.
HOLD_BAD = 10_000


@dataclass
class IngestReport:
    dataset: str
    format: str
    rows: int = 0
    added: int = 0
    duplicates: int = 0  # pairs already in the dataset, or repeated in the source
    rejected: int = 0
    rejected_new: int = 0  # rejected rows newly stored (a repeated bad row is stored once)
    splits: Counter = field(default_factory=Counter)  # pairs added per split
    reasons: Counter = field(default_factory=Counter)
    examples: list[tuple[int, str]] = field(default_factory=list)  # (row, reason), first few
    replaced: Replaced | None = None  # what --replace deleted
    kept: bool = True  # False: no pair was stored, so this ingest left nothing in the store

    @property
    def readable(self) -> int:
        return self.added + self.duplicates


def content_hash(record: PairRecord) -> str:
    payload = json.dumps([record.prompt, record.chosen, record.rejected], ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def prompt_hash(prompt: list[dict[str, str]]) -> str:
    """Hash of the prompt messages alone (the rule migration 0003 applies to old rows)."""
    return hashlib.sha256(json.dumps(prompt, ensure_ascii=False).encode()).hexdigest()


def prompt_text(prompt: list[dict[str, str]]) -> str:
    return "\n\n".join(f"{m['role']}: {m['content']}" for m in prompt)


def assign_split(
    record: PairRecord,
    row_split: str | None,
    split: str | None,
    test_fraction: float | None,
    digest: str,
) -> str:
    """The split: named by the row, else by the source, else --split, else hashed from
    ``digest`` (the prompt hash, so pairs sharing a prompt share a split)."""
    if record.split or row_split:
        return record.split or row_split  # type: ignore[return-value]
    if split:
        return split
    if test_fraction:
        # Hash-based, so a prompt lands in the same split on every ingest.
        return "test" if int(digest[:8], 16) / 0xFFFFFFFF < test_fraction else "train"
    return "train"


def _checked_name(value: str, what: str, limit: int, option: str) -> str:
    """A dataset or split name given by the user: non-blank, storable, within its column."""
    if is_blank(value):
        raise DataFormatError(f"the {what} is empty; pass {option}")
    if storable(value) != value:
        raise DataFormatError(
            f"the {what} {storable(value)!r} holds characters that cannot be stored; pass {option}"
        )
    if len(value) > limit:
        raise DataFormatError(
            f"the {what} is {len(value):,} characters long, over the limit of {limit}; "
            f"pass a shorter {option}"
        )
    return value


def _open_source(source: str | Path, fmt: str | None, prefer: str, mapping: Mapping | None):
    """The row iterator (its first rows put back) and the reader for its layout."""
    rows = iter_rows(source)
    head = list(itertools.islice(rows, SAMPLE))
    if not head:
        raise DataFormatError(f"{source}: no rows")
    sample = [r.row for r in head if isinstance(r.row, dict)]
    if not sample:
        first = head[0]
        reason = first.row.reason if isinstance(first.row, RowError) else "unreadable"
        raise DataFormatError(
            f"{source}: none of the first {len(head)} rows can be read ({first.where}: {reason})"
        )
    return itertools.chain(head, rows), choose_reader(sample, fmt, prefer, mapping)


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
    replace: bool = False,
    progress: bool = True,
) -> IngestReport:
    """Read ``source`` into dataset ``name`` (default: the file's stem).

    An existing dataset of that name must have been read the same way (layout, and
    ``--prefer`` / ``--map`` where they matter), unless ``replace``: then it is deleted
    with its runs and read again. A new dataset whose ingest stores no pair is not kept.
    """
    if test_fraction is not None and not 0 < test_fraction < 1:
        raise DataFormatError(f"--test-fraction is {test_fraction}, expected between 0 and 1")
    if split is not None:
        split = _checked_name(split, "split name", SPLIT_MAX, "--split")
    name = _checked_name(
        name if name is not None else Path(str(source).rstrip("/")).stem,
        "dataset name",
        NAME_MAX,
        "--name",
    )
    rows, reader = _open_source(source, fmt, prefer, mapping)
    options = {"prefer": prefer, "mapping": dict(mapping or {})}
    writer = DatasetWriter(make_session, name, storable(str(source)), reader.name, options, replace)
    writer.open()
    report = IngestReport(dataset=name, format=reader.name)
    try:
        _read_all(rows, reader, writer, report, split, test_fraction, progress)
    except Exception:
        log.warning("ingest of %s failed; taking back what it wrote", name)
        try:
            writer.undo()
        except Exception:  # the first error is the one to report; this one is logged
            log.exception("could not take back what the failed ingest of %s wrote", name)
        raise
    report.replaced = writer.replaced
    if writer.dataset_id is None or (report.added == 0 and writer.drop_if_empty()):
        report.kept = False
    return report


def _read_all(
    rows,
    reader: Reader,
    writer: DatasetWriter,
    report: IngestReport,
    split: str | None,
    test_fraction: float | None,
    progress: bool,
) -> None:
    pairs: list[dict] = []
    bad: list[dict] = []

    def flush() -> None:
        new, new_bad = writer.write(pairs, bad)
        for pair in pairs:
            if pair["content_hash"] in new:
                report.added += 1
                report.splits[pair["split"]] += 1
            else:  # another ingest stored it meanwhile
                report.duplicates += 1
        report.rejected_new += new_bad
        pairs.clear()
        bad.clear()

    for item in tqdm(rows, desc=f"ingesting {report.dataset}", unit="row", disable=not progress):
        report.rows += 1
        try:
            if isinstance(item.row, RowError):
                raise item.row
            record = reader.read(item.row)
        except RowError as err:
            _reject(report, item, err.reason, writer.seen_bad, bad)
        else:
            digest = content_hash(record)
            if digest in writer.seen:
                report.duplicates += 1
            else:
                writer.seen.add(digest)
                by_prompt = prompt_hash(record.prompt)
                pairs.append(
                    {
                        "split": assign_split(record, item.split, split, test_fraction, by_prompt),
                        "source_row": item.number,
                        "prompt": record.prompt,
                        "prompt_text": prompt_text(record.prompt),
                        "chosen": record.chosen,
                        "rejected": record.rejected,
                        "category": record.category,
                        "content_hash": digest,
                        "prompt_hash": by_prompt,
                        "source_id": record.source_id,
                    }
                )
        if len(pairs) + len(bad) >= CHUNK and (
            pairs or writer.dataset_id is not None or len(bad) >= HOLD_BAD
        ):
            flush()
    # Bad rows alone never create a dataset: without a pair they are only reported.
    if pairs or (bad and writer.dataset_id is not None):
        flush()


def _reject(
    report: IngestReport, item: SourceRow, reason: str, seen_bad: set[str], bad: list[dict]
) -> None:
    reason = storable(reason)
    report.rejected += 1
    report.reasons[reason] += 1
    if len(report.examples) < EXAMPLES:
        report.examples.append((item.number, f"{item.where}: {reason}"))
    raw = item.raw_text()
    # By content, not row number: the same bad row re-read (or moved) is stored once.
    raw_hash = hashlib.sha256(json.dumps([item.split, raw]).encode()).hexdigest()
    if raw_hash not in seen_bad:
        seen_bad.add(raw_hash)
        bad.append({"source_row": item.number, "reason": reason, "raw": raw, "raw_hash": raw_hash})
