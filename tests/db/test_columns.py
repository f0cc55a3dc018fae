"""A finished score run's columns are stored once and read back equal to its rows."""

from __future__ import annotations

import numpy as np
from sqlalchemy import delete

from db import read
from db.read.columns import PREFIX, read_columns, stored_columns
from db.read.diagnostics import run_diagnostics
from db.schema import RunValues
from db.session import writing
from tests.factories import ingest_test_split
from training.jobs.score import run_score_job


def test_stored_columns_equal_the_rows_and_diagnostics_do_not_change(store, tmp_path, tiny_lm):
    name = ingest_test_split(store, tmp_path, "c", 9)
    run = run_score_job(store, str(tiny_lm), name, "test", progress=False).run
    with store() as s:
        stored = stored_columns(s, run.id)
        raw = read_columns(s, run.id)
        assert stored is not None and stored.shape == raw.shape == (9, 8)
        np.testing.assert_array_equal(stored, raw)
        fast = run_diagnostics(s, run.id)
    with writing(store) as s:
        s.execute(
            delete(RunValues).where(RunValues.run_id == run.id, RunValues.series.like(PREFIX + "%"))
        )
    with store() as s:
        assert stored_columns(s, run.id) is None
        slow = run_diagnostics(s, run.id)
        assert read.get_run(s, run.id)["status"] == "done"
    assert fast == slow
