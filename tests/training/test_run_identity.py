"""A run is what it says it measured: keyed by the model's and the data's fingerprints,
numbers of a running run from a fair sample, lengths of the response alone, one
comparison set of prompts, and an update time every write moves."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import numpy as np
import pytest
from sqlalchemy import select

from db import read, runs
from db.schema import Checkpoint, Dataset, Generation, GenerationScore, Pair, PairScore, Run
from db.session import writing
from preflens.cli.main import main
from preflens.errors import PrefLensError
from preflens.fingerprint import model_fingerprint
from tests.factories import ingest_test_split, make_tiny_lm_dir, trl_rows, write_jsonl
from training.jobs.ingest import ingest
from training.jobs.score import run_score_job
from training.jobs.score_generations import run_score_generations_job
from training.loading import load_reward_model
from training.scoring import length_batches, shuffled_length_chunks


def test_retraining_into_the_same_folder_makes_a_new_run_and_checkpoint_version(
    store, tmp_path, tiny_lm
):
    name = ingest_test_split(store, tmp_path, "d", 6)
    model = tmp_path / "rm"
    shutil.copytree(tiny_lm, model)
    first = run_score_job(store, str(model), name, "test", progress=False)
    assert run_score_job(store, str(model), name, "test", progress=False).reused
    make_tiny_lm_dir(model, seed=7)  # new weights, same folder
    second = run_score_job(store, str(model), name, "test", progress=False)
    assert not second.reused and second.run.id != first.run.id
    assert second.run.model_fingerprint != first.run.model_fingerprint
    with store() as s:
        versions = s.scalars(select(Checkpoint).where(Checkpoint.path == str(model))).all()
        assert len(versions) == 2 and len({c.fingerprint for c in versions}) == 2
        # The old run still points at the weights that made its numbers.
        assert s.get(Run, first.run.id).checkpoint.fingerprint == first.run.model_fingerprint


def test_adding_pairs_to_a_dataset_makes_a_new_run(store, tmp_path, tiny_lm):
    name = ingest_test_split(store, tmp_path, "d", 4)
    first = run_score_job(store, str(tiny_lm), name, "test", progress=False)
    more = write_jsonl(tmp_path / "more.jsonl", trl_rows(7)[4:])
    ingest(store, more, name=name, split="test", progress=False)
    second = run_score_job(store, str(tiny_lm), name, "test", progress=False)
    assert not second.reused and second.run.id != first.run.id
    assert first.run.summary["pairs"] == 4 and second.run.summary["pairs"] == 7


def test_response_lengths_and_split_are_stored(store, tmp_path, tiny_lm):
    name = ingest_test_split(store, tmp_path, "d", 5)
    run = run_score_job(store, str(tiny_lm), name, "test", progress=False).run
    rm = load_reward_model(str(tiny_lm), device="cpu")
    with store() as s:
        rows = s.execute(
            select(PairScore, Pair)
            .join(Pair, Pair.id == PairScore.pair_id)
            .where(PairScore.run_id == run.id)
        ).all()
    for ps, pair in rows:
        assert ps.split == "test"
        assert (ps.chars_chosen, ps.chars_rejected) == (len(pair.chosen), len(pair.rejected))
        tokens = len(rm.tokenizer(pair.chosen, add_special_tokens=False)["input_ids"])
        assert ps.response_tokens_chosen == tokens
        # The conversation as scored is longer than the response alone (template, prompt).
        assert ps.tokens_chosen > ps.response_tokens_chosen


def test_batches_run_in_a_random_order_of_length_chunks():
    lengths = list(range(100))
    batches = shuffled_length_chunks(lengths, 10, seed=1)
    assert sorted(map(tuple, batches)) == sorted(map(tuple, length_batches(lengths, 10)))
    # Not longest first: the first batch is not the longest chunk.
    assert batches[0] != length_batches(lengths, 10)[0]
    firsts = {tuple(shuffled_length_chunks(lengths, 10, seed=s)[0]) for s in range(20)}
    assert len(firsts) > 3
    assert shuffled_length_chunks(lengths, 10, seed=1) == batches  # seeded


def test_score_defaults_to_the_test_split_and_says_so(store, tmp_path, tiny_lm, capsys):
    rows = trl_rows(6)
    for i, row in enumerate(rows):
        row["split"] = "test" if i < 2 else "train"
    data = write_jsonl(tmp_path / "mixed.jsonl", rows)
    assert main(["ingest", str(data)]) == 0
    assert main(["score", "--model", str(tiny_lm), "--dataset", "mixed"]) == 0
    printed = capsys.readouterr().out
    assert "on split test of mixed" in printed and "scored 2 pairs" in printed
    assert "n=2 (Wilson 95%)" in printed  # the headline says its n and interval method
    assert "std of scores" in printed  # the spread is labelled, not shown as "+-"


def _generation_store(store, scores: dict[str, list[float]], texts=None, status="done"):
    """A dataset of 4 pairs, a generation run and a scoring run with the given scores
    per policy (policy i answers the first len(scores[i]) prompts)."""
    with writing(store) as s:
        ds = Dataset(name="g", source="x", format="trl", options={})
        s.add(ds)
        s.flush()
        pairs = [
            Pair(
                dataset_id=ds.id,
                split="test",
                source_row=i,
                prompt=[{"role": "user", "content": f"q{i}"}],
                prompt_text=f"q{i}",
                chosen="a",
                rejected="b",
                content_hash=f"h{i}",
            )
            for i in range(4)
        ]
        s.add_all(pairs)
        gen = Run(kind="generate", key="g", status=status, config={"policies": list(scores)})
        s.add(gen)
        s.flush()
        sg = Run(
            kind="score_generations",
            key="sg",
            status="done",
            parent_run_id=gen.id,
            config={"policies": list(scores)},
        )
        s.add(sg)
        s.flush()
        for policy, values in scores.items():
            for i, value in enumerate(values):
                text = (texts or {}).get(policy, [f"{policy}{i}"] * 4)[i]
                g = Generation(
                    run_id=gen.id,
                    pair_id=pairs[i].id,
                    policy=policy,
                    text=text,
                    n_tokens=3,
                    finish_reason="stop",
                    seconds=0.1,
                )
                s.add(g)
                s.flush()
                s.add(
                    GenerationScore(
                        run_id=sg.id, generation_id=g.id, score=value, n_tokens=9, truncated=False
                    )
                )
        return gen.id, sg.id


def test_policy_statistics_cover_the_prompts_every_policy_answered(store):
    _, sg = _generation_store(store, {"base": [0.0, 0.0, 0.0, 10.0], "dpo": [1.0, 1.0, 1.0]})
    with store() as s:
        summary = read.generation_summary(s, sg)
    assert summary["n"] == 3
    assert summary["policies"]["base"]["mean"] == 0.0  # not 2.5: prompt 4 is left out
    assert summary["policies"]["base"]["left_out"] == 1
    (c,) = summary["comparisons"]
    assert (c["a"], c["b"], c["n"], c["wins"]) == ("dpo", "base", 3, 3)


def test_identical_answers_are_ties(store):
    texts = {"base": ["same", "x", "y", "z"], "dpo": ["same", "p", "q", "r"]}
    _, sg = _generation_store(store, {"base": [0.0] * 4, "dpo": [1e-6, 1, 1, -1]}, texts)
    with store() as s:
        (c,) = read.generation_summary(s, sg)["comparisons"]
    assert (c["wins"], c["ties"], c["losses"]) == (2, 1, 1)


def test_score_generations_refuses_an_unfinished_generation_run(store, tiny_lm):
    gen, _ = _generation_store(store, {"base": [0.0], "dpo": [1.0]}, status="running")
    with pytest.raises(PrefLensError, match="not done"):
        run_score_generations_job(store, str(tiny_lm), gen, progress=False)


def test_every_write_moves_the_update_time(store):
    with writing(store) as s:
        run, _ = runs.open_run(s, "train_rm", "k")
        run_id = run.id
    with writing(store) as s:
        runs.finish_run(s, run_id, {"x": 1})
        done_at = s.get(Run, run_id).updated_at
    with writing(store) as s:
        runs.write_metrics(s, run_id, 5, {"eval/accuracy": 0.5})  # written after "done"
    with store() as s:
        later = s.get(Run, run_id).updated_at
    assert later.replace(tzinfo=UTC) > done_at.replace(tzinfo=UTC)
    assert later.replace(tzinfo=UTC) <= datetime.now(UTC)


def test_fingerprint_follows_the_weights(tmp_path, tiny_lm):
    copy = tmp_path / "m"
    shutil.copytree(tiny_lm, copy)
    assert model_fingerprint(str(copy)) == model_fingerprint(str(tiny_lm))
    (copy / "run.json").write_text("{}")  # bookkeeping does not change the model
    assert model_fingerprint(str(copy)) == model_fingerprint(str(tiny_lm))
    make_tiny_lm_dir(copy, seed=3)
    assert model_fingerprint(str(copy)) != model_fingerprint(str(tiny_lm))
    assert model_fingerprint("Org/some-model").startswith("hub:")


def test_case_probability_is_stable_for_huge_gaps(store, tmp_path):
    ingest_test_split(store, tmp_path, "d", 1)
    with writing(store) as s:
        pair = s.scalars(select(Pair)).one()
        run = Run(kind="score", key="k", status="done", dataset_id=pair.dataset_id)
        s.add(run)
        s.flush()
        s.add(
            PairScore(
                run_id=run.id,
                pair_id=pair.id,
                score_chosen=-900.0,
                score_rejected=0.0,
                gap=-900.0,
                tokens_chosen=1,
                tokens_rejected=1,
            )
        )
        run_id, pair_id = run.id, pair.id
    with store() as s:
        case = read.get_case(s, run_id, pair_id)
    assert case["scores"]["p_chosen_preferred"] == pytest.approx(0.0)
    assert np.isfinite(case["scores"]["p_chosen_preferred"])


def test_dashboard_cache_key_follows_metrics_written_after_done(store):
    from dashboard.frames import run_stamp

    with writing(store) as s:
        run, _ = runs.open_run(s, "train_rm", "k2")
        runs.finish_run(s, run.id, {"x": 1})
        run_id = run.id
    with store() as s:
        before = run_stamp(read.get_run(s, run_id))
    with writing(store) as s:
        runs.write_metrics(s, run_id, 9, {"eval/accuracy": 0.75})
    with store() as s:
        after = run_stamp(read.get_run(s, run_id))
    assert before != after
