"""`preflens compare-retrained`: a second model scored on exactly the pairs of a score run
(same split and limit), then compared pair by pair with it, per slice too."""

from __future__ import annotations

from sqlalchemy import func, select

from db.schema import PairScore
from preflens.cli.main import main
from tests.factories import make_tiny_lm_dir, write_jsonl
from tests.training.test_train_rm import easy_rows
from training.jobs.ingest import ingest
from training.jobs.score import run_score_job


def test_compare_retrained_scores_the_same_pairs_and_compares(tiny_lm, tmp_path, capsys):
    from db.migrate import open_store

    make = open_store()
    rows = easy_rows(12, "test")
    for i, r in enumerate(rows):
        r["category"] = "a" if i % 2 else "b"
    ingest(make, write_jsonl(tmp_path / "d.jsonl", rows), name="d", progress=False)
    old = run_score_job(make, str(tiny_lm), "d", "test", max_length=64, limit=10, progress=False)
    other = make_tiny_lm_dir(tmp_path / "other", seed=1)
    assert main(["compare-retrained", "--model", str(other), "--against", str(old.run.id)]) == 0
    text = capsys.readouterr().out
    new_id = int(text.split("pairs: run ")[1].split()[0])
    with make() as s:
        ids = {
            rid: set(s.scalars(select(PairScore.pair_id).where(PairScore.run_id == rid)))
            for rid in (old.run.id, new_id)
        }
        assert s.scalar(select(func.count()).select_from(PairScore)) == 20
    assert ids[old.run.id] == ids[new_id] and len(ids[new_id]) == 10  # the same 10 pairs
    assert f"slices: run {new_id} vs run {old.run.id} on 10 shared pairs" in text
    # The same model again is the same run: nothing to compare, one line, exit 2.
    assert main(["compare-retrained", "--model", str(tiny_lm), "--against", str(old.run.id)]) == 2
    assert "two different runs" in capsys.readouterr().err
