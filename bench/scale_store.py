"""The start every at-scale benchmark shares: an empty store migrated to the newest schema,
with one synthetic dataset named "scale" and the runs the benchmark fills."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from db.migrate import upgrade
from db.schema import Dataset, Run
from db.session import make_engine


def scale_store(
    url: str, runs: list[dict[str, Any]]
) -> tuple[sessionmaker[Session], int, list[int]]:
    """Migrate the empty store at ``url`` and add the dataset and one run per entry of
    ``runs`` (``Run`` fields; the dataset is filled in); (sessionmaker, dataset id, run
    ids in the order given)."""
    upgrade(url)
    make = sessionmaker(make_engine(url))
    with make() as s:
        ds = Dataset(name="scale", source="synthetic", format="trl", options={})
        s.add(ds)
        s.flush()
        rows = [Run(dataset_id=ds.id, **fields) for fields in runs]
        s.add_all(rows)
        s.commit()
        return make, ds.id, [r.id for r in rows]
