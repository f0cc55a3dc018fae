"""train-dpo --ref: the reference log-probs come from the named model (a plain checkpoint
or a LoRA adapter), and the reference is part of the run's identity."""

from __future__ import annotations

import json

import pytest
import torch
from sqlalchemy import select

from db.schema import Metric
from tests.factories import make_tiny_lm_dir, write_jsonl
from tests.training.test_train_rm import easy_rows
from training.jobs.ingest import ingest
from training.jobs.train_dpo import DPOTrainConfig, train_dpo

BETA = 0.1


@pytest.fixture
def easy(store, tmp_path):
    rows = easy_rows(8, "train") + easy_rows(2, "test", start=100)
    ingest(store, write_jsonl(tmp_path / "easy.jsonl", rows), name="easy", progress=False)
    return "easy"


def _first_step(store, tmp_path, model, ref, name, **kw) -> dict[str, float]:
    """One DPO step; the metrics TRL logged for it (computed before the update)."""
    cfg = DPOTrainConfig(
        dataset="easy", model=str(model), ref=None if ref is None else str(ref),
        output=str(tmp_path / name), lr=1e-6, batch_size=4, max_steps=1, logging_steps=1,
        max_length=64, warmup_ratio=0.0, beta=BETA, eval_limit=2, **kw,
    )  # fmt: skip
    run = train_dpo(store, cfg, progress=False).run
    assert run.status == "done"
    with store() as s:
        rows = s.execute(
            select(Metric.name, Metric.value).where(Metric.run_id == run.id, Metric.step == 1)
        ).all()
    return {"run": run.id, **dict(rows)}


def test_the_reference_log_probs_are_the_named_models(store, easy, tiny_lm, tmp_path):
    """Policy X against reference Y, then Y against X (same seed, same batch): the implicit
    reward of the first is beta * (log p_X - log p_Y), where the policy log-probs are read
    from the two runs; with no --ref the reference is the policy itself (reward 0)."""
    other = make_tiny_lm_dir(tmp_path / "other", seed=1)
    own = _first_step(store, tmp_path, tiny_lm, None, "own")
    x_vs_y = _first_step(store, tmp_path, tiny_lm, other, "xy")
    y_vs_x = _first_step(store, tmp_path, other, tiny_lm, "yx", precompute_ref=True)
    assert own["train/rewards/chosen"] == pytest.approx(0.0, abs=1e-6)
    for side in ("chosen", "rejected"):
        lp_x, lp_y = x_vs_y[f"train/logps/{side}"], y_vs_x[f"train/logps/{side}"]
        assert abs(lp_x - lp_y) > 0.1  # two different models
        assert x_vs_y[f"train/rewards/{side}"] == pytest.approx(BETA * (lp_x - lp_y), rel=1e-4)
        assert y_vs_x[f"train/rewards/{side}"] == pytest.approx(BETA * (lp_y - lp_x), rel=1e-4)
    assert x_vs_y["train/loss"] != pytest.approx(own["train/loss"], abs=1e-4)
    assert len({own["run"], x_vs_y["run"], y_vs_x["run"]}) == 3  # the reference is identity


def test_a_lora_adapter_loads_as_the_reference(store, easy, tiny_lm, tmp_path):
    """Reference = a LoRA adapter over tiny_lm; the same against its merged weights saved
    as a plain checkpoint (as the policy, reference tiny_lm) gives mirrored rewards."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(3)
    lora = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"],
                      init_lora_weights=False, task_type="CAUSAL_LM")  # fmt: skip
    peft_model = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_lm), lora)
    adapter = tmp_path / "adapter"
    peft_model.save_pretrained(adapter)
    cfg_file = adapter / "adapter_config.json"
    cfg_file.write_text(
        json.dumps({**json.loads(cfg_file.read_text()), "base_model_name_or_path": str(tiny_lm)})
    )
    merged = tmp_path / "merged"
    peft_model.merge_and_unload().save_pretrained(merged)
    from transformers import AutoTokenizer

    AutoTokenizer.from_pretrained(tiny_lm).save_pretrained(merged)
    x_vs_a = _first_step(store, tmp_path, tiny_lm, adapter, "xa", precompute_ref=True)
    m_vs_x = _first_step(store, tmp_path, merged, tiny_lm, "mx")
    lp_x, lp_m = x_vs_a["train/logps/chosen"], m_vs_x["train/logps/chosen"]
    assert abs(lp_x - lp_m) > 1e-3  # the adapter changed the model
    assert x_vs_a["train/rewards/chosen"] == pytest.approx(BETA * (lp_x - lp_m), rel=1e-3)
    with store() as s:
        from db.schema import Run

        assert s.get(Run, x_vs_a["run"]).config["ref"] == str(adapter)


def test_ref_with_a_reference_free_loss_is_refused(store, easy, tiny_lm, tmp_path):
    from preflens.errors import ConfigError

    cfg = DPOTrainConfig(dataset="easy", model=str(tiny_lm), ref=str(tiny_lm), loss="simpo")
    with pytest.raises(ConfigError, match="--ref: the simpo loss uses no reference model"):
        train_dpo(store, cfg, progress=False)
