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


def test_kept_states_equal_separate_forward_and_scores_do_not_change(store, dataset, tiny_lm):
    plain = run_score_job(store, str(tiny_lm), dataset, "test", batch_size=3, progress=False)
    kept = run_score_job(
        store, str(tiny_lm), dataset, "test", batch_size=3, progress=False, keep_states=True
    )
    assert kept.run.id != plain.run.id  # keeping states is part of what defines the run
    assert kept.run.config["keep_states"]["dims"] == 64
    rm = load_reward_model(str(tiny_lm))
    hidden = int(rm.model.config.hidden_size)
    # Independent projection matrix: the documented recipe, written out here.
    proj = (np.random.default_rng(0).standard_normal((hidden, 64)) / np.sqrt(64)).astype(np.float32)
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


def test_bytes_per_pair_documented():
    assert states.bytes_per_pair() == 3 * 64 * 2 == 384
    with pytest.raises(ValueError):
        states.projection(10, dims=65)
