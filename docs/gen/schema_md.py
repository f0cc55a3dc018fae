"""The store's tables as Markdown, from the SQLAlchemy models in ``db/schema.py``.

Columns, types, nullability, keys, unique constraints and indexes are read from the
metadata the migrations are checked against, so the page shows the schema the code
writes. (Objects only a migration creates, such as SQLite's FTS5 table and PostgreSQL's
search column, are described in the page's prose.)
"""

from __future__ import annotations

import inspect
from typing import Any

from sqlalchemy import Column, Table, UniqueConstraint


def _columns(names: Any) -> str:
    return ", ".join(f"`{name}`" for name in names)


def _notes(column: Column) -> str:
    notes = []
    if column.primary_key:
        notes.append("primary key")
    notes += [f"-> `{fk.target_fullname}`" for fk in sorted(column.foreign_keys, key=str)]
    if column.unique:
        notes.append("unique")
    text = column.comment or column.doc
    if text:
        notes.append(" ".join(text.split()))
    return "; ".join(notes)


def _doc(table: Table, classes: dict[str, type]) -> str:
    cls = classes.get(table.name)
    doc = inspect.getdoc(cls) if cls is not None and cls.__doc__ else ""
    return " ".join(doc.split("\n\n")[0].split()) if doc else ""


def table_lines(table: Table, classes: dict[str, type]) -> list[str]:
    lines = [f"### `{table.name}`", ""]
    doc = _doc(table, classes)
    if doc:
        lines += [doc, ""]
    lines += ["| column | type | null | notes |", "|---|---|---|---|"]
    for column in table.columns:
        null = "yes" if column.nullable else "no"
        lines.append(f"| `{column.name}` | {column.type} | {null} | {_notes(column)} |")
    lines.append("")
    uniques = sorted(
        _columns(c.name for c in u.columns)
        for u in table.constraints
        if isinstance(u, UniqueConstraint) and len(u.columns) > 1
    )
    if uniques:
        lines += ["Unique together: " + "; ".join(f"({u})" for u in uniques) + ".", ""]
    indexes = sorted(table.indexes, key=lambda i: i.name or "")
    if indexes:
        described = [f"`{i.name}` ({_columns(c.name for c in i.columns)})" for i in indexes]
        lines += ["Indexes: " + "; ".join(described) + ".", ""]
    return lines


def schema_markdown() -> str:
    """One section per table, in dependency order (a table after those it points to)."""
    import db.schema  # noqa: F401  (registers every model on Base.metadata)
    from db.base import Base

    classes = {m.local_table.name: m.class_ for m in Base.registry.mappers}
    lines: list[str] = []
    for table in Base.metadata.sorted_tables:
        lines += table_lines(table, classes)
    return "\n".join(lines).rstrip() + "\n"
