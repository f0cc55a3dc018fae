"""People's flags on pairs (``mislabelled``, ``ambiguous``, ``bad-prompt``, ``ok``): the one
write path (set or clear a pair's flag) and the reads that list them.

A pair holds at most one flag; setting another replaces it (label, note, who, when).
Functions take a ``Session`` first and never commit: the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.lookup import dataset_record
from db.ownership import now
from db.schema import FLAG_LABELS, Pair, PairFlag
from preflens.errors import NotFoundError, QueryError

MAX_NOTE_CHARS = 2000
MAX_FLAGS = 10_000


def parse_labels(text: str | Sequence[str]) -> list[str]:
    """Flag labels from ``"mislabelled,ambiguous"`` or a list; unknown ones refused."""
    items = text.split(",") if isinstance(text, str) else list(text)
    labels = [t.strip() for t in items if t.strip()]
    bad = [t for t in labels if t not in FLAG_LABELS]
    if bad or not labels:
        raise QueryError(f"unknown flag {', '.join(bad) or '(none)'}; use {', '.join(FLAG_LABELS)}")
    return list(dict.fromkeys(labels))


def _utc_iso(when: datetime | None) -> str | None:
    """ISO time in UTC; SQLite hands back the stored UTC time without its zone, so the
    same flag reads alike from every backend and right after it is written."""
    if when is None:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).isoformat()


def flag_dict(flag: PairFlag) -> dict[str, Any]:
    """A flag as plain JSON-able values."""
    return {
        "pair_id": flag.pair_id,
        "label": flag.label,
        "note": flag.note,
        "set_by": flag.set_by,
        "updated_at": _utc_iso(flag.updated_at),
    }


def set_flag(
    session: Session, pair_id: int, label: str, note: str = "", set_by: str = "cli"
) -> dict[str, Any]:
    """Set (or replace) the flag of pair ``pair_id``; returns the stored flag."""
    if label not in FLAG_LABELS:
        raise QueryError(f"unknown flag {label!r}; use {', '.join(FLAG_LABELS)}")
    if len(note) > MAX_NOTE_CHARS:
        raise QueryError(f"the note has {len(note)} characters; at most {MAX_NOTE_CHARS}")
    if session.get(Pair, pair_id) is None:
        raise NotFoundError(f"no pair with id {pair_id}")
    flag = session.get(PairFlag, pair_id)
    if flag is None:
        flag = PairFlag(pair_id=pair_id)
        session.add(flag)
    flag.label, flag.note, flag.set_by, flag.updated_at = label, note, set_by, now()
    session.flush()
    return flag_dict(flag)


def clear_flag(session: Session, pair_id: int) -> bool:
    """Remove the flag of pair ``pair_id``; False when it had none."""
    flag = session.get(PairFlag, pair_id)
    if flag is None:
        return False
    session.delete(flag)
    session.flush()
    return True


def get_flag(session: Session, pair_id: int) -> dict[str, Any] | None:
    """The flag of one pair, or None."""
    flag = session.get(PairFlag, pair_id)
    return None if flag is None else flag_dict(flag)


def list_flags(
    session: Session,
    dataset: str | int | None = None,
    labels: Sequence[str] | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """Flags (newest first), optionally of one dataset and of some labels, each with the
    pair's dataset id, split and category."""
    if not 1 <= limit <= MAX_FLAGS:
        raise QueryError(f"limit must be between 1 and {MAX_FLAGS}")
    stmt = select(PairFlag, Pair.dataset_id, Pair.split, Pair.category).join(
        Pair, Pair.id == PairFlag.pair_id
    )
    if dataset is not None:
        stmt = stmt.where(Pair.dataset_id == dataset_record(session, dataset).id)
    if labels:
        stmt = stmt.where(PairFlag.label.in_(parse_labels(labels)))
    rows = session.execute(
        stmt.order_by(PairFlag.updated_at.desc(), PairFlag.pair_id).limit(limit)
    ).all()
    return [flag_dict(f) | {"dataset_id": d, "split": s, "category": c} for f, d, s, c in rows]


def flagged_pair_ids(session: Session, dataset_id: int, labels: Sequence[str]) -> set[int]:
    """Ids of the dataset's pairs whose flag is one of ``labels``."""
    stmt = (
        select(PairFlag.pair_id)
        .join(Pair, Pair.id == PairFlag.pair_id)
        .where(Pair.dataset_id == dataset_id, PairFlag.label.in_(parse_labels(labels)))
    )
    return set(session.scalars(stmt))
