"""How an ingest writes: the dataset row, idempotent inserts, ``--replace``, and undo.

Two ingests of one file under one name may run at once: pairs and rejected rows are
inserted with ``ON CONFLICT DO NOTHING`` on their unique keys (dataset + content hash,
dataset + raw hash), and the dataset row the same way on its name, re-reading the row
another process made first. ``RETURNING`` says which rows this ingest added, so its
counts are exact and a failed ingest can take back exactly what it wrote.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, delete, exists, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from db.schema import Dataset, Pair, RejectedRow, Run
from db.session import writing
from preflens.errors import DataFormatError, PrefLensError

log = logging.getLogger(__name__)
_ID_CHUNK = 500  # ids per DELETE ... IN (...)


@dataclass
class Replaced:
    """What ``--replace`` deleted: the old dataset's id, its pair and rejected-row counts,
    and the runs of it (deleted with it by ON DELETE CASCADE)."""

    dataset_id: int
    pairs: int
    rejected: int
    runs: list[int] = field(default_factory=list)


def _insert(session: Session, table: Table) -> Any:
    """The dialect's INSERT (the one with ``on_conflict_do_nothing``)."""
    name = session.get_bind().dialect.name
    dialects = {"sqlite": sqlite, "postgresql": postgresql}
    if name not in dialects:
        raise PrefLensError(f"ingest writes to SQLite or PostgreSQL, not {name}")
    return dialects[name].insert(table)


def check_same_options(ds: Dataset, fmt: str, options: dict[str, Any]) -> None:
    """Adding rows read another way would mix two datasets under one name: refuse, naming
    the option that differs. ``--prefer`` only changes PKU-SafeRLHF, ``--map`` only the
    mapping layout."""
    old = ds.options or {}
    differs = None
    if ds.format != fmt:
        differs = f"layout {ds.format}; this source reads as {fmt} (--format)"
    elif fmt == "pku-saferlhf" and old.get("prefer", "helpful") != options["prefer"]:
        differs = f"--prefer {old.get('prefer', 'helpful')}; this ingest has --prefer " + str(
            options["prefer"]
        )
    elif fmt == "mapping" and (old.get("mapping") or {}) != options["mapping"]:
        shown = " ".join(f"{k}={v}" for k, v in sorted((old.get("mapping") or {}).items()))
        differs = f"--map {shown}; this ingest maps columns differently (--map)"
    if differs:
        raise DataFormatError(
            f"dataset {ds.name!r} was ingested with {differs}. Adding to it would mix the "
            f"two: pass --name NEW for a separate dataset, or --replace to re-ingest "
            f"{ds.name!r} from this source"
        )


class DatasetWriter:
    """Writes one ingest's rows into dataset ``name``; creates the dataset with the first
    rows it writes, in the same transaction, so no empty dataset is ever committed."""

    def __init__(
        self,
        make_session: sessionmaker[Session],
        name: str,
        source: str,
        fmt: str,
        options: dict[str, Any],
        replace: bool = False,
    ):
        self.make_session = make_session
        self.name, self.source, self.fmt, self.options = name, source, fmt, options
        self.replace = replace
        self.dataset_id: int | None = None
        self.created = False
        self.replaced: Replaced | None = None
        self.pair_ids: list[int] = []
        self.bad_ids: list[int] = []
        self.seen: set[str] = set()  # content hashes already in the dataset
        self.seen_bad: set[str] = set()  # raw hashes of rejected rows already stored

    def open(self) -> None:
        """Find an existing dataset of that name; check its options (unless replacing)
        and load its hashes, so known rows are counted without a write."""
        with self.make_session() as session:
            ds = session.scalars(select(Dataset).where(Dataset.name == self.name)).first()
            if ds is None or self.replace:
                return
            check_same_options(ds, self.fmt, self.options)
            self.dataset_id = ds.id
            self.seen = set(
                session.scalars(select(Pair.content_hash).where(Pair.dataset_id == ds.id))
            )
            self.seen_bad = set(
                session.scalars(select(RejectedRow.raw_hash).where(RejectedRow.dataset_id == ds.id))
            )

    def write(self, pairs: list[dict], bad: list[dict]) -> tuple[set[str], int]:
        """Insert rows (one transaction); returns the content hashes of the pairs that
        were new and how many rejected rows were new."""
        pair_t, bad_t = Pair.__table__, RejectedRow.__table__
        new_pairs: list[Any] = []
        new_bad: list[int] = []
        with writing(self.make_session) as session:
            if self.dataset_id is None:
                self._create(session)
            for row in (*pairs, *bad):
                row["dataset_id"] = self.dataset_id
            if pairs:
                stmt = _insert(session, pair_t).on_conflict_do_nothing(
                    index_elements=["dataset_id", "content_hash"]
                )
                returning = stmt.returning(pair_t.c.id, pair_t.c.content_hash)
                new_pairs = list(session.execute(returning, pairs).all())
            if bad:
                stmt = _insert(session, bad_t).on_conflict_do_nothing(
                    index_elements=["dataset_id", "raw_hash"]
                )
                new_bad = list(session.scalars(stmt.returning(bad_t.c.id), bad))
        self.pair_ids += [row.id for row in new_pairs]
        self.bad_ids += new_bad
        return {row.content_hash for row in new_pairs}, len(new_bad)

    def _create(self, session: Session) -> None:
        if self.replace:
            self._delete_old(session)
        table = Dataset.__table__
        stmt = (
            _insert(session, table)
            .values(name=self.name, source=self.source, format=self.fmt, options=self.options)
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(table.c.id)
        )
        new_id = session.scalar(stmt)
        if new_id is None:  # another ingest created it first: join it if it reads the same
            ds = session.scalars(select(Dataset).where(Dataset.name == self.name)).one()
            check_same_options(ds, self.fmt, self.options)
            new_id = ds.id
        else:
            self.created = True
        self.dataset_id = new_id

    def _delete_old(self, session: Session) -> None:
        old = session.scalars(select(Dataset).where(Dataset.name == self.name)).first()
        if old is None:
            return

        def count(model: Any) -> int:
            return session.scalar(select(func.count()).where(model.dataset_id == old.id)) or 0

        runs = list(
            session.scalars(select(Run.id).where(Run.dataset_id == old.id).order_by(Run.id))
        )
        self.replaced = Replaced(old.id, count(Pair), count(RejectedRow), runs)
        log.info(
            "replacing dataset %r (id %d): deleting %d pairs, %d rejected rows and runs %s",
            self.name,
            old.id,
            self.replaced.pairs,
            self.replaced.rejected,
            runs or "(none)",
        )
        session.execute(delete(Dataset.__table__).where(Dataset.__table__.c.id == old.id))

    def drop_if_empty(self) -> bool:
        """Delete the dataset this ingest created when it holds no pair; True if dropped."""
        if not self.created or self.dataset_id is None:
            return False
        table = Dataset.__table__
        no_pair = ~exists().where(Pair.__table__.c.dataset_id == self.dataset_id)
        with writing(self.make_session) as session:
            result = session.execute(delete(table).where(table.c.id == self.dataset_id, no_pair))
        return bool(result.rowcount)

    def undo(self) -> None:
        """Take back what this ingest wrote (a source failed part-way): the dataset it
        created, or the rows it added to an existing one. One transaction."""
        if self.dataset_id is None:
            return
        with writing(self.make_session) as session:
            if self.created:
                session.execute(
                    delete(Dataset.__table__).where(Dataset.__table__.c.id == self.dataset_id)
                )
                return
            for model, ids in ((Pair, self.pair_ids), (RejectedRow, self.bad_ids)):
                table = model.__table__
                for start in range(0, len(ids), _ID_CHUNK):
                    chunk = ids[start : start + _ID_CHUNK]
                    session.execute(delete(table).where(table.c.id.in_(chunk)))
