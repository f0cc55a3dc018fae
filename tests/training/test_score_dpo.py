"""score-dpo on tiny random models: implicit rewards equal a hand computation from the
model's log-probs and TRL's DPOTrainer `rewards/chosen` on the same batch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sqlalchemy import select

from db.read.probes import agreement, dpo_points, dpo_summary
from db.schema import DpoScore, Pair
from tests.factories import Boom, ingest_test_split, make_tiny_lm_dir
from training.jobs.score import run_score_job
from training.jobs.score_dpo import encode_completion, run_score_dpo_job
from training.loading import load_policy

BETA = 0.1


@pytest.fixture(scope="module")
def policy_dir(tmp_path_factory):
    """A second tiny LM (other random weights, same tokenizer): the "trained" policy."""
    return make_tiny_lm_dir(tmp_path_factory.mktemp("policy"), seed=1)


@pytest.fixture
def dataset(store, tmp_path):
    return ingest_test_split(store, tmp_path, "d", 6)


def hand_logp(model, tok, prompt, response) -> tuple[float, int]:
    """log pi(response | prompt) from full-vocabulary log-softmax, one sequence alone."""
    p, c = encode_completion(tok, prompt, response)
    ids = torch.tensor([p + c])
    with torch.no_grad():
        logp = F.log_softmax(model(input_ids=ids).logits[0, :-1].double(), -1)
    targets = ids[0, 1:]
    token = logp[torch.arange(len(targets)), targets]
    return float(token[len(p) - 1 :].sum()), len(c)


def test_rewards_equal_hand_computation_and_trl(store, dataset, tiny_lm, policy_dir, tmp_path):
    def crash(k: int) -> None:
        if k == 0:
            raise Boom("injected")

    with pytest.raises(Boom):
        run_score_dpo_job(store, str(policy_dir), str(tiny_lm), dataset, beta=BETA,
                          batch_size=2, on_batch=crash, progress=False)  # fmt: skip
    result = run_score_dpo_job(
        store, str(policy_dir), str(tiny_lm), dataset, beta=BETA, batch_size=2, progress=False
    )
    assert result.done_now == 4 and result.run.status == "done"
    with store() as s:
        rows = s.scalars(select(DpoScore).order_by(DpoScore.pair_id)).all()
        pairs = s.scalars(select(Pair).order_by(Pair.id)).all()
        summary = dpo_summary(s, result.run.id)
        points = dpo_points(s, result.run.id)
    assert [r.pair_id for r in rows] == [p.id for p in pairs]  # one row per pair

    pol = load_policy(str(policy_dir), "policy", device="cpu")
    ref = load_policy(str(tiny_lm), "reference", device="cpu")
    for r, p in zip(rows, pairs, strict=True):
        lpc, nc = hand_logp(pol.model, pol.tokenizer, p.prompt, p.chosen)
        lrc, _ = hand_logp(ref.model, ref.tokenizer, p.prompt, p.chosen)
        lpr, nr = hand_logp(pol.model, pol.tokenizer, p.prompt, p.rejected)
        lrr, _ = hand_logp(ref.model, ref.tokenizer, p.prompt, p.rejected)
        assert (r.tokens_chosen, r.tokens_rejected) == (nc, nr)
        assert r.logp_policy_chosen == pytest.approx(lpc, abs=1e-4)
        assert r.reward_chosen == pytest.approx(BETA * (lpc - lrc), abs=1e-5)
        assert r.reward_rejected == pytest.approx(BETA * (lpr - lrr), abs=1e-5)
        assert r.gap == pytest.approx(r.reward_chosen - r.reward_rejected, abs=1e-12)

    rc = np.array([r.reward_chosen for r in rows])
    rr = np.array([r.reward_rejected for r in rows])
    assert summary["accuracy"]["k"] == int(np.sum(rc > rr)) and summary["pairs"] == 6
    fell = sum(r.logp_policy_chosen < r.logp_ref_chosen for r in rows)
    assert summary["chosen_fell"]["k"] == fell
    assert points[0]["delta_chosen"] == pytest.approx(
        rows[0].logp_policy_chosen - rows[0].logp_ref_chosen
    )

    # TRL's DPOTrainer on the same pairs, same models: its logged rewards/chosen (the batch
    # mean of beta x (log pi - log ref)) equals the mean of the stored rewards.
    from datasets import Dataset
    from trl import DPOTrainer

    from training.configs import DPOTrainConfig
    from training.jobs.train_dpo import preference_rows, trainer_args

    cfg = DPOTrainConfig(dataset="d", beta=BETA, batch_size=len(pairs), max_length=1024)
    trainer = DPOTrainer(
        model=pol.model,
        ref_model=ref.model,
        args=trainer_args(cfg, str(tmp_path / "trl"), has_eval=False, progress=False),
        train_dataset=Dataset.from_list(preference_rows(pairs)),
        processing_class=pol.tokenizer,
    )
    batch = next(iter(trainer.get_train_dataloader()))
    trainer.model.eval()
    with torch.no_grad():
        trainer.compute_loss(trainer.model, batch)
    logged = trainer._metrics["eval"]
    # the dataloader shuffles; a mean over the whole batch (all pairs) does not depend on it
    assert logged["rewards/chosen"][-1] == pytest.approx(rc.mean(), abs=1e-5)
    assert logged["rewards/rejected"][-1] == pytest.approx(rr.mean(), abs=1e-5)
    assert logged["rewards/margins"][-1] == pytest.approx((rc - rr).mean(), abs=1e-5)


def test_reference_free_and_agreement_with_an_rm_run(store, dataset, policy_dir, tiny_lm):
    result = run_score_dpo_job(store, str(policy_dir), None, dataset, beta=BETA, progress=False)
    with store() as s:
        rows = s.scalars(select(DpoScore).order_by(DpoScore.pair_id)).all()
        summary = dpo_summary(s, result.run.id)
    assert all(r.logp_ref_chosen is None and r.logp_ref_rejected is None for r in rows)
    for r in rows:
        assert r.reward_chosen == pytest.approx(BETA * r.logp_policy_chosen / r.tokens_chosen)
    assert summary["reference_free"] and "no reference" in summary["reward"]
    assert "chosen_fell" not in summary

    rm_run = run_score_job(store, str(tiny_lm), dataset, "test", progress=False).run
    with store() as s:
        view = agreement(s, result.run.id, rm_run.id)
    assert view["pairs"] == 6 == sum(view["quadrants"].values())
    dis = [p for p in view["points"] if (p["rm_gap"] > 0) != (p["dpo_gap"] > 0)]
    assert view["disagreeing_total"] == len(dis)
    assert view["quadrants"]["rm_only"] + view["quadrants"]["dpo_only"] == len(dis)
