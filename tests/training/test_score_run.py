"""The resumable score job on a real SQLite store with a tiny model."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import func, select

from db.schema import Pair, PairScore, Run
from tests.factories import Boom, ingest_test_split
from training.jobs.score import run_score_job
from training.loading import load_reward_model
from training.scoring import score_texts


@pytest.fixture
def dataset(store, tmp_path):
    return ingest_test_split(store, tmp_path, "p", 11)


def _rows(store, run_id):
    with store() as s:
        return s.execute(
            select(PairScore.pair_id, PairScore.score_chosen, PairScore.score_rejected)
            .where(PairScore.run_id == run_id)
            .order_by(PairScore.pair_id)
        ).all()


def test_interrupted_run_resumes_with_one_row_per_pair(store, dataset, tiny_lm):
    def crash_after_two(k: int) -> None:
        if k == 1:
            raise Boom("injected")

    with pytest.raises(Boom):
        run_score_job(
            store,
            str(tiny_lm),
            dataset,
            "test",
            batch_size=3,
            on_batch=crash_after_two,
            progress=False,
        )
    with store() as s:
        run = s.scalars(select(Run)).one()
        assert run.status == "failed" and "injected" in run.error
        assert s.scalar(select(func.count()).select_from(PairScore)) == 6  # two batches of 3
        assert run.progress == pytest.approx(6 / 11)

    result = run_score_job(store, str(tiny_lm), dataset, "test", batch_size=3, progress=False)
    assert not result.reused and result.done_now == 5 and result.run.status == "done"
    rows = _rows(store, result.run.id)
    with store() as s:
        pairs = s.scalars(select(Pair).order_by(Pair.id)).all()
        assert [r.pair_id for r in rows] == [p.id for p in pairs]  # exactly one row per pair
        # The stored scores equal scoring each conversation directly.
        rm = load_reward_model(str(tiny_lm), device="cpu")
        direct = score_texts(rm, [p.prompt for p in pairs], [p.chosen for p in pairs])
    np.testing.assert_allclose([r.score_chosen for r in rows], [d for d, _ in direct], atol=1e-5)

    summary = result.run.summary
    gaps = np.array([r.score_chosen - r.score_rejected for r in rows])
    both = np.array([[r.score_chosen, r.score_rejected] for r in rows]).ravel()
    assert summary["pairs"] == 11
    assert summary["accuracy"] == pytest.approx(float(np.mean(gaps > 0)))
    assert summary["reward_mean"] == pytest.approx(both.mean())
    assert summary["reward_std"] == pytest.approx(both.std(), rel=1e-6)

    again = run_score_job(store, str(tiny_lm), dataset, "test", batch_size=3, progress=False)
    assert again.reused and again.run.id == result.run.id
    assert _rows(store, result.run.id) == rows


def test_different_settings_make_a_new_run_and_truncation_is_counted(store, dataset, tiny_lm):
    a = run_score_job(store, str(tiny_lm), dataset, "test", max_length=512, progress=False)
    b = run_score_job(store, str(tiny_lm), dataset, "test", max_length=24, progress=False)
    assert a.run.id != b.run.id
    assert a.run.summary["truncated_responses"] == 0
    assert b.run.summary["truncated_responses"] > 0
