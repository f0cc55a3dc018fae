"""ORM lookups by name or id that the write path and the read queries share. Each takes
a ``Session`` first and never commits; a missing row is a ``NotFoundError`` whose
message says what exists."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.schema import Dataset, Run
from preflens.errors import NotFoundError

MAX_ID = 2**63 - 1  # SQLite and PostgreSQL BIGINT; a larger id can name no row


def dataset_record(session: Session, name_or_id: str | int) -> Dataset:
    """A dataset by name (or numeric id); ``NotFoundError`` lists what exists."""
    stmt = select(Dataset).where(Dataset.name == str(name_or_id))
    dataset = session.scalars(stmt).first()
    text = str(name_or_id)
    if dataset is None and text.isdigit() and int(text) <= MAX_ID:
        dataset = session.get(Dataset, int(text))
    if dataset is None:
        names = session.scalars(select(Dataset.name).order_by(Dataset.name)).all()
        known = ", ".join(names) or "none yet; run `preflens ingest` first"
        raise NotFoundError(f"no dataset named {name_or_id!r} (known: {known})")
    return dataset


def run_record(session: Session, run_id: int) -> Run:
    """A run by id (``NotFoundError`` when there is none)."""
    run = session.get(Run, run_id) if 0 <= run_id <= MAX_ID else None
    if run is None:
        raise NotFoundError(f"no run with id {run_id}; `preflens runs` lists them")
    return run
