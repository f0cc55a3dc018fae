"""LoRA adapters (peft) over a local base: reward models score as the merged model,
policies generate from the merged weights, a broken adapter is refused with exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from transformers import LlamaForSequenceClassification

from db.schema import Run
from tests.factories import make_tokenizer
from tests.training.rm_checkpoints import (
    assert_close,
    cli,
    dataset,
    reference_scores,
    save,
    score_run,
    tiny_config,
    weights_of,
)
from training.loading import load_reward_model

__all__ = ["dataset"]  # the fixture, imported for this module's tests


def _lora(model, folder: Path, base: Path, task_type: str | None = None) -> Path:
    """A LoRA adapter with random (non-zero) A and B, so it changes the outputs; saved the
    way peft saves it, naming ``base`` as its base model."""
    from peft import LoraConfig, get_peft_model

    lora = LoraConfig(
        r=4,
        lora_alpha=8,
        target_modules=["q_proj", "v_proj"],
        init_lora_weights=False,
        task_type=task_type,
    )
    torch.manual_seed(3)
    peft_model = get_peft_model(model, lora)
    with torch.no_grad():  # a trained copy of the score head (SEQ_CLS saves it too)
        for name, p in peft_model.named_parameters():
            if "modules_to_save" in name:
                p.add_(torch.randn_like(p))
    peft_model.save_pretrained(folder)
    cfg = json.loads((folder / "adapter_config.json").read_text())
    cfg["base_model_name_or_path"] = str(base)
    (folder / "adapter_config.json").write_text(json.dumps(cfg))
    return folder, peft_model


def test_reward_model_adapter_scores_as_the_merged_model(store, dataset, tmp_path):
    base = save(LlamaForSequenceClassification(tiny_config(num_labels=1)), tmp_path / "base")
    model = LlamaForSequenceClassification.from_pretrained(base)
    adapter, peft_model = _lora(model, tmp_path / "adapter", base, task_type="SEQ_CLS")
    merged = peft_model.merge_and_unload()  # the adapter applied to the base, by peft itself
    merged.save_pretrained(tmp_path / "merged")
    make_tokenizer().save_pretrained(tmp_path / "merged")
    run, stored, pairs = score_run(store, str(adapter), dataset)
    w = load_file(str(tmp_path / "merged" / "model.safetensors"))["score.weight"]
    expected = reference_scores(tmp_path / "merged", pairs, w)
    assert_close(stored, expected)
    plain = reference_scores(base, pairs, weights_of(base)["score.weight"])
    assert np.abs(np.asarray(expected) - np.asarray(plain)).max() > 1e-3  # the adapter mattered
    assert run.config["rm_layout"]["adapter"]["base"] == str(base)
    assert run.config["rm_layout"]["head"] == "trained"  # the adapter carries the head
    with store() as s:  # the adapter is the model of record, not its base
        assert s.get(Run, run.id).checkpoint.path == str(adapter.resolve())


def test_policy_adapter_generates_from_the_merged_weights(tiny_lm, tmp_path):
    from transformers import AutoModelForCausalLM

    from training.loading import load_policy

    model = AutoModelForCausalLM.from_pretrained(tiny_lm)
    adapter, peft_model = _lora(model, tmp_path / "policy-adapter", tiny_lm, "CAUSAL_LM")
    merged = peft_model.merge_and_unload().eval()
    policy = load_policy(str(adapter), "lora", device="cpu")
    ids = torch.tensor([[1, 5, 9, 12, 40, 7]])
    with torch.no_grad():
        want = merged(input_ids=ids).logits
        got = policy.model(input_ids=ids).logits
        base = AutoModelForCausalLM.from_pretrained(tiny_lm).eval()(input_ids=ids).logits
    torch.testing.assert_close(got, want, atol=1e-5, rtol=0)
    assert (want - base).abs().max() > 1e-3


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("no-weights", "no adapter weights"),
        ("bad-json", "adapter_config.json is not readable JSON"),
        ("no-base", "names no base model"),
        ("missing-base", "the adapter's base model cannot load"),
    ],
)
def test_broken_adapter_is_refused(cli_store, dataset, tiny_lm, tmp_path, capsys, damage, message):
    from transformers import AutoModelForCausalLM

    folder, _ = _lora(AutoModelForCausalLM.from_pretrained(tiny_lm), tmp_path / "ad", tiny_lm)
    cfg_file = folder / "adapter_config.json"
    cfg = json.loads(cfg_file.read_text())
    if damage == "no-weights":
        (folder / "adapter_model.safetensors").unlink()
    elif damage == "bad-json":
        cfg_file.write_text("{not json")
    elif damage == "no-base":
        cfg_file.write_text(json.dumps({**cfg, "base_model_name_or_path": ""}))
    else:
        cfg_file.write_text(json.dumps({**cfg, "base_model_name_or_path": str(tmp_path / "gone")}))
    assert cli("score", "--model", str(folder), "--dataset", dataset) == 2
    err = capsys.readouterr().err
    assert message in err and str(folder) in err and "Traceback" not in err


def test_adapter_that_carries_the_head_over_a_headless_base_is_trained(tiny_lm, tmp_path):
    """TRL's LoRA reward training saves the score head in the adapter (modules_to_save):
    over a plain causal LM that head is used, and the model is not an untrained one."""
    base = LlamaForSequenceClassification.from_pretrained(tiny_lm, num_labels=1)
    adapter, peft_model = _lora(base, tmp_path / "rm-lora", tiny_lm, task_type="SEQ_CLS")
    rm = load_reward_model(str(adapter), device="cpu")
    trained = peft_model.base_model.model.score.modules_to_save["default"].weight
    torch.testing.assert_close(rm.model.score.weight, trained)
    assert not rm.head_initialized and rm.describe()["head"] == "trained"
