"""score --keep-states: the kept vectors come from the scoring pass itself and equal the
projected hidden states computed separately, one unpadded conversation at a time."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sqlalchemy import select

from db.schema import Pair, PairScore, PairState, Run
from preflens import states
from tests.factories import ingest_test_split
from training.jobs.score import run_score_job
from training.loading import load_reward_model
from training.scoring import encode


@pytest.fixture
def dataset(store, tmp_path):
    return ingest_test_split(store, tmp_path, "ks", 7)


def _last_hidden(model, ids: list[int]) -> np.ndarray:
    backbone = getattr(model, model.base_model_prefix)
    with torch.inference_mode():
        h = backbone(input_ids=torch.tensor([ids])).last_hidden_state[0, -1]
    return h.float().numpy()


def _rm_and_projection(path) -> tuple:
    """The tiny RM and an independent projection matrix: the documented recipe
    (N(0, 1/64) entries from default_rng(0)), written out here."""
    rm = load_reward_model(str(path))
    hidden = int(rm.model.config.hidden_size)
    proj = np.random.default_rng(0).standard_normal((hidden, 64)) / np.sqrt(64)
    return rm, proj.astype(np.float32)


def test_kept_states_equal_separate_forward_and_scores_do_not_change(
    store, db_url, dataset, tiny_lm
):
    plain = run_score_job(store, str(tiny_lm), dataset, "test", batch_size=3, progress=False)
    kept = run_score_job(
        store, str(tiny_lm), dataset, "test", batch_size=3, progress=False, keep_states=True
    )
    assert kept.run.id != plain.run.id  # keeping states is part of what defines the run
    assert kept.run.config["keep_states"]["dims"] == 64
    rm, proj = _rm_and_projection(tiny_lm)
    with store() as s:
        rows = s.execute(
            select(Pair, PairState)
            .join(PairState, PairState.pair_id == Pair.id)
            .where(PairState.run_id == kept.run.id)
            .order_by(Pair.id)
        ).all()
        kept_gaps = dict(
            s.execute(
                select(PairScore.pair_id, PairScore.gap).where(PairScore.run_id == kept.run.id)
            ).all()
        )
        plain_gaps = dict(
            s.execute(
                select(PairScore.pair_id, PairScore.gap).where(PairScore.run_id == plain.run.id)
            ).all()
        )
        assert s.get(Run, kept.run.id).status == "done"
    assert len(rows) == 7
    for pair, st in rows:
        assert len(st.chosen) == len(st.rejected) == len(st.prompt) == 64 * 2  # float16
        ec = encode(rm.tokenizer, pair.prompt, pair.chosen, 512).ids
        er = encode(rm.tokenizer, pair.prompt, pair.rejected, 512).ids
        shared = next(i for i, (a, b) in enumerate(zip(ec, er, strict=False)) if a != b)
        want = {
            "chosen": _last_hidden(rm.model, ec) @ proj,
            "rejected": _last_hidden(rm.model, er) @ proj,
            # the prompt alone (the tokens both sides share), run on its own
            "prompt": _last_hidden(rm.model, ec[:shared]) @ proj,
        }
        for side, vec in want.items():
            got = states.unpack([getattr(st, side)])[0]
            np.testing.assert_allclose(got, vec, rtol=2e-2, atol=2e-2 * np.abs(vec).max())
        assert kept_gaps[pair.id] == pytest.approx(plain_gaps[pair.id], abs=1e-4)
    from preflens.api import Store

    read = Store(db_url).run(kept.run.id).states()
    assert read["pair_id"].tolist() == [pair.id for pair, _ in rows]
    assert read["chosen"].shape == read["prompt"].shape == (7, 64)
    np.testing.assert_array_equal(read["rejected"][0], states.unpack([rows[0][1].rejected])[0])


def test_bytes_per_pair_documented():
    assert states.bytes_per_pair() == 3 * 64 * 2 == 384
    with pytest.raises(ValueError):
        states.projection(10, dims=65)


def test_score_generations_keeps_one_state_per_answer(store, db_url, dataset, tiny_lm):
    """score-generations --keep-states: one vector per answer from the scoring pass, equal
    to the separately computed projected state of prompt + answer; scores unchanged;
    readable from the notebook API."""
    from db.schema import Generation, GenerationScore, GenerationState
    from preflens.api import Store
    from preflens.errors import QueryError
    from training.jobs.generate import run_generate_job
    from training.jobs.score_generations import run_score_generations_job

    gen = run_generate_job(
        store,
        {"base": str(tiny_lm), "other": str(tiny_lm)},
        dataset,
        "test",
        max_new_tokens=4,
        temperature=0.0,
        progress=False,
    ).run
    plain = run_score_generations_job(store, str(tiny_lm), gen.id, progress=False).run
    kept = run_score_generations_job(
        store, str(tiny_lm), gen.id, batch_size=2, progress=False, keep_states=True
    ).run
    assert kept.id != plain.id and kept.config["keep_states"]["dims"] == 64
    rm, proj = _rm_and_projection(tiny_lm)
    with store() as s:
        answers = s.execute(
            select(Generation, Pair)
            .join(Pair, Pair.id == Generation.pair_id)
            .where(Generation.run_id == gen.id)
            .order_by(Generation.id)
        ).all()
        kept_states = dict(
            s.execute(
                select(GenerationState.generation_id, GenerationState.state).where(
                    GenerationState.run_id == kept.id
                )
            ).all()
        )
        scores = {
            run: dict(
                s.execute(
                    select(GenerationScore.generation_id, GenerationScore.score).where(
                        GenerationScore.run_id == run
                    )
                ).all()
            )
            for run in (plain.id, kept.id)
        }
    assert len(answers) == 14 and len(kept_states) == 14
    for g, pair in answers:
        ids = encode(rm.tokenizer, pair.prompt, g.text, 512).ids
        want = _last_hidden(rm.model, ids) @ proj
        got = states.unpack([kept_states[g.id]])[0]
        np.testing.assert_allclose(got, want, rtol=2e-2, atol=2e-2 * np.abs(want).max())
        assert scores[kept.id][g.id] == pytest.approx(scores[plain.id][g.id], abs=1e-4)
    read = Store(db_url).run(kept.id).states()
    assert read["generation_id"].tolist() == [g.id for g, _ in answers]
    assert read["state"].shape == (14, 64) and set(read["policy"]) == {"base", "other"}
    np.testing.assert_array_equal(
        read["state"][0], states.unpack([kept_states[answers[0][0].id]])[0]
    )
    with pytest.raises(QueryError, match="kept no state vectors"):
        Store(db_url).run(plain.id).states()
