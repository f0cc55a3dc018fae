"""Checkpoint series: train-rm --eval-every on a tiny model, the series read against a
recomputation from the stored rows, and the checkpoint folder rules."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from db.read.series import series, series_points
from db.schema import PairScore, Run
from preflens.errors import ConfigError, QueryError
from tests.factories import write_jsonl
from tests.training.test_train_rm import easy_rows
from training.jobs.ingest import ingest
from training.jobs.train_rm import RMTrainConfig, train_rm
from training.series import expand_models, prune_checkpoints, series_dir


@pytest.fixture
def easy(store, tmp_path):
    rows = easy_rows(16, "train") + easy_rows(8, "test", start=100)
    ingest(store, write_jsonl(tmp_path / "easy.jsonl", rows), name="easy", progress=False)
    return "easy"


def _right(session, run_id: int) -> dict[int, bool]:
    rows = session.execute(
        select(PairScore.pair_id, PairScore.score_chosen, PairScore.score_rejected).where(
            PairScore.run_id == run_id
        )
    )
    return {pid: c > r for pid, c, r in rows}


def test_eval_every_makes_linked_score_runs_and_counts_match_rows(store, easy, tiny_lm, tmp_path):
    out = tmp_path / "rm"
    cfg = RMTrainConfig(
        dataset=easy,
        model=str(tiny_lm),
        output=str(out),
        lr=3e-3,
        batch_size=8,
        epochs=3,
        logging_steps=4,
        max_length=64,
        warmup_ratio=0.0,
        eval_every=2,
        keep_checkpoints=1,
    )
    result = train_rm(store, cfg, progress=False)
    train_id = result.run.id
    with store() as s:
        linked = s.scalars(
            select(Run).where(Run.parent_run_id == train_id, Run.kind == "score")
        ).all()
        steps = sorted(r.config["series_step"] for r in linked if "series_step" in r.config)
        assert steps == [2, 4, 6]
        points = series_points(s, train_id)
        assert [p for p, _ in points] == [0, 2, 4, 6]
        got = series(s, train_id, b=1000)
        truth = [_right(s, rid) for _, rid in points]
    # Only the newest checkpoint folder is kept; its weights scored the last point.
    assert sorted(p.name for p in series_dir(out).iterdir()) == ["checkpoint-6"]
    assert got["n_pairs"] == 8 and got["steps"] == [0, 2, 4, 6]
    for i in range(1, 4):
        prev, cur = truth[i - 1], truth[i]
        learned = sorted(p for p in cur if cur[p] and not prev[p])
        forgotten = sorted(p for p in cur if prev[p] and not cur[p])
        vs = got["points"][i]["vs_previous"]
        assert (vs["learned"], vs["forgotten"]) == (len(learned), len(forgotten))
        assert vs["learned_ids"] == learned and vs["forgotten_ids"] == forgotten
    for point, right in zip(got["points"], truth, strict=True):
        assert point["accuracy"]["value"] == pytest.approx(sum(right.values()) / 8)
    accs = [sum(r.values()) for r in truth]
    assert got["best"]["step"] == [0, 2, 4, 6][accs.index(max(accs))]
    flips = {p: sum(truth[i][p] != truth[i - 1][p] for i in range(1, 4)) for p in truth[0]}
    assert got["oscillating"]["count"] == sum(f > 1 for f in flips.values())
    # The same command again finds the finished run and the same series.
    again = train_rm(store, cfg, progress=False)
    assert again.reused and again.run.id == train_id
    with store() as s:
        assert series_points(s, train_id) == points


def test_series_of_a_score_run_is_refused(store, easy, tiny_lm):
    from training.jobs.score import run_score_job

    run = run_score_job(store, str(tiny_lm), easy, "test", max_length=64, progress=False).run
    with store() as s, pytest.raises(QueryError, match="score run"):
        series(s, run.id)


def test_expand_models_orders_checkpoint_folders_by_step(tmp_path):
    folder = tmp_path / "ckpts"
    for step in (10, 2, 30):
        (folder / f"checkpoint-{step}").mkdir(parents=True)
    (folder / "other").mkdir()
    assert [s for s, _ in expand_models([str(folder)])] == [2, 10, 30]
    assert expand_models(["a", "b"]) == [(0, "a"), (1, "b")]
    with pytest.raises(ConfigError, match="same step"):
        expand_models([str(folder / "checkpoint-2"), str(folder / "checkpoint-2")])
    assert [p.name for p in prune_checkpoints(folder, 1)] == ["checkpoint-2", "checkpoint-10"]
    assert prune_checkpoints(folder, None) == []


def test_train_dpo_eval_every_links_score_dpo_runs(store, easy, tiny_lm, tmp_path):
    from db.schema import DpoScore
    from training.jobs.train_dpo import DPOTrainConfig, train_dpo

    cfg = DPOTrainConfig(
        dataset="easy",
        model=str(tiny_lm),
        output=str(tmp_path / "dpo"),
        lr=5e-3,
        batch_size=4,
        max_steps=6,
        max_length=64,
        warmup_ratio=0.0,
        eval_every=3,
    )
    run = train_dpo(store, cfg, progress=False).run
    assert run.summary["series_steps"] == [3, 6]
    with store() as s:
        points = series_points(s, run.id)
        assert [s.get(Run, rid).kind for _, rid in points] == ["score_dpo", "score_dpo"]
        got = series(s, run.id, b=1000)
        truth = []
        for _, rid in points:
            rows_ = s.execute(
                select(DpoScore.pair_id, DpoScore.gap).where(DpoScore.run_id == rid)
            ).all()
            truth.append({p: g > 0 for p, g in rows_})
    vs = got["points"][1]["vs_previous"]
    assert vs["learned"] == sum(truth[1][p] and not truth[0][p] for p in truth[0])
    assert vs["forgotten"] == sum(truth[0][p] and not truth[1][p] for p in truth[0])
    assert got["points"][0]["accuracy"]["value"] == pytest.approx(sum(truth[0].values()) / 8)


def test_series_callback_keeps_the_training_random_state(tmp_path):
    import torch

    from training.series import SeriesCallback

    class Saver:  # stands in for a transformers model and tokenizer: writes a file
        def save_pretrained(self, path):
            (tmp_path / "saved").write_text(path)

    def score(model: str, step: int) -> int:
        torch.manual_seed(step)  # what loading a checkpoint with a head seed does
        return 100 + step

    class State:
        global_step = 4

    cb = SeriesCallback(tmp_path / "series", 2, 1, Saver(), score)
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    cb.on_step_end(None, State(), None, model=Saver())
    assert torch.equal(torch.rand(3), expected)
    assert cb.scored == {4: 104}
    State.global_step = 5  # not a multiple of every: nothing saved or scored
    cb.on_step_end(None, State(), None, model=Saver())
    assert cb.scored == {4: 104}
