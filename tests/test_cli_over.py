"""preflens score over a checkpoint series, preflens bon, and their diagnose and runs
lines, end to end on tiny models and a real SQLite file."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from db.schema import Generation, GenerationScore, Run
from preflens.bon import expected_best_of_k
from preflens.cli.commands.base import open_store
from preflens.cli.main import main
from tests.factories import make_tiny_lm_dir, trl_rows, write_jsonl


@pytest.fixture
def toy(tmp_path):
    assert (
        main(["ingest", str(write_jsonl(tmp_path / "toy.jsonl", trl_rows(6))), "--split", "test"])
        == 0
    )
    return "toy"


def test_score_a_folder_of_checkpoints_is_a_series(toy, tmp_path, capsys):
    folder = tmp_path / "ckpts"
    for step, seed in ((20, 1), (10, 0)):
        make_tiny_lm_dir(folder / f"checkpoint-{step}", seed=seed)
    capsys.readouterr()
    assert main(["score", "--model", str(folder), "--dataset", toy, "--max-length", "64"]) == 0
    text = capsys.readouterr().out
    assert "step     10" in text and "step     20" in text and "Wilson 95%" in text
    with open_store()() as s:
        parent = s.scalars(select(Run).where(Run.kind == "series")).one()
        children = s.scalars(select(Run).where(Run.parent_run_id == parent.id)).all()
        assert sorted(c.config["series_step"] for c in children) == [10, 20]
    assert main(["diagnose", str(parent.id), "--bootstrap", "1000"]) == 0
    text = capsys.readouterr().out
    assert "checkpoint series of run" in text and "learned forgotten" in text
    assert main(["runs"]) == 0
    assert "series" in capsys.readouterr().out
    # the same command finds the same runs
    assert main(["score", "--model", str(folder), "--dataset", toy, "--max-length", "64"]) == 0
    with open_store()() as s:
        assert len(s.scalars(select(Run).where(Run.kind == "score")).all()) == 2


def test_bon_samples_scores_and_prints_curves(toy, tmp_path, tiny_lm, capsys):
    gold = make_tiny_lm_dir(tmp_path / "gold", seed=3)
    args = ["bon", "--policy", f"base={tiny_lm}", "--rm", str(tiny_lm), "--gold-rm", str(gold)]
    args += ["--dataset", toy, "--n", "4", "--limit", "3", "--max-new-tokens", "4"]
    args += ["--max-length", "64"]
    capsys.readouterr()
    assert main(args) == 0
    captured = capsys.readouterr()
    text = captured.out
    assert "3 prompts x N=4" in text and "KL (nats)" in text
    # both RMs are heads drawn from a seed: each is said up front, as for score
    assert captured.err.count("has no reward head") == 2
    with open_store()() as s:
        bon = s.scalars(select(Run).where(Run.kind == "bon")).one()
        roles = bon.summary["score_runs"]
        gens = s.execute(
            select(Generation.id, Generation.pair_id, Generation.policy, Generation.text).where(
                Generation.run_id == bon.id
            )
        ).all()
        score = {
            role: dict(
                s.execute(
                    select(GenerationScore.generation_id, GenerationScore.score).where(
                        GenerationScore.run_id == rid
                    )
                ).all()
            )
            for role, rid in roles.items()
        }
    assert len(gens) == 12 and {g.policy for g in gens} == {f"base#{j}" for j in range(4)}
    # samples of one prompt are not copies of each other
    by_pair: dict[int, list] = {}
    for g in gens:
        by_pair.setdefault(g.pair_id, []).append(g)
    assert any(len({g.text for g in v}) > 1 for v in by_pair.values())
    gold_k4 = np.mean(
        [
            expected_best_of_k(
                [score["proxy"][g.id] for g in v], [score["gold"][g.id] for g in v], 4
            )
            for v in by_pair.values()
        ]
    )
    assert f"{gold_k4:.3f}" in text.splitlines()[-2] or f"{gold_k4:.3f}" in text
    capsys.readouterr()
    assert main(args) == 0
    assert "already complete, reused" in capsys.readouterr().out
    assert main(["diagnose", str(bon.id), "--bootstrap", "1000"]) == 0
    assert "best-of-N run" in capsys.readouterr().out
    assert main(["runs", "--kind", "bon"]) == 0
    assert "4 answers x 3 prompts" in capsys.readouterr().out
    assert main(["runs", "--kind", "bon_score"]) == 0
    listing = capsys.readouterr().out
    assert listing.count("toy/test") == 2 and "gold RM scores of 12 answers" in listing


def test_bon_policy_name_with_hash_is_refused(toy, tiny_lm, capsys):
    code = main(["bon", "--policy", f"a#b={tiny_lm}", "--rm", str(tiny_lm), "--dataset", toy])
    assert code == 2 and "may not contain '#'" in capsys.readouterr().err


def test_bon_resumes_a_lost_prompt_with_the_same_answers(toy, tiny_lm, capsys):
    from sqlalchemy import delete

    args = ["bon", "--policy", f"base={tiny_lm}", "--rm", str(tiny_lm), "--dataset", toy]
    args += ["--n", "3", "--limit", "2", "--max-new-tokens", "4", "--max-length", "64"]
    assert main(args) == 0
    store = open_store()
    with store() as s:
        bon = s.scalars(select(Run).where(Run.kind == "bon")).one()
        before = s.execute(
            select(Generation.pair_id, Generation.policy, Generation.text).where(
                Generation.run_id == bon.id
            )
        ).all()
        lost = before[0].pair_id
        # as if the job had died before this prompt's answers were written
        s.execute(delete(Generation).where(Generation.run_id == bon.id, Generation.pair_id == lost))
        s.get(Run, bon.id).status = "running"
        s.commit()
    capsys.readouterr()
    assert main(args) == 0
    assert "3 new answers" in capsys.readouterr().out
    with store() as s:
        after = s.execute(
            select(Generation.pair_id, Generation.policy, Generation.text).where(
                Generation.run_id == bon.id
            )
        ).all()
    assert sorted(map(tuple, after)) == sorted(map(tuple, before))
    with store() as s:  # the new answers are scored too: every prompt counts again
        from db.read.bon import bon_summary

        assert bon_summary(s, bon.id)["prompts"] == 2
