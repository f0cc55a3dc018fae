"""Reward models in other frameworks' layouts: the score a score run stores equals the
framework's own forward (backbone hidden state at the last token x head, then its
normalisation), computed here independently, one unpadded conversation at a time."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from sqlalchemy import select
from transformers import LlamaForSequenceClassification, LlamaModel

from db.schema import Pair, PairScore, Run
from preflens.errors import ModelError
from tests.factories import ingest_test_split, make_tokenizer
from tests.training.rm_checkpoints import (
    AccustomedLlamaRewardModel,
    LlamaForScore,
    openrlhf_class,
    save,
    tiny_config,
)
from training.jobs.score import run_score_job
from training.loading import load_reward_model
from training.rm_layouts import LayoutError


@pytest.fixture
def dataset(store, tmp_path):
    return ingest_test_split(store, tmp_path, "p", 5)


def _weights(folder: Path) -> dict[str, torch.Tensor]:
    return load_file(str(folder / "model.safetensors"))


def _reference(folder: Path, pairs, head_w, head_b=None) -> list[tuple[float, float]]:
    """The framework's forward, written out: a bare Llama backbone from the checkpoint's
    ``model.*`` weights, its last hidden state at the conversation's last token, times
    the head (float32). No padding, so no mask logic is shared with PrefLens."""
    from transformers import AutoConfig, AutoTokenizer

    config = AutoConfig.from_pretrained(folder)
    weights = _weights(folder)
    backbone = LlamaModel(config)
    backbone.load_state_dict({k[6:]: v for k, v in weights.items() if k.startswith("model.")})
    backbone.eval()
    tok = AutoTokenizer.from_pretrained(folder)
    out = []
    for prompt, chosen, rejected in pairs:
        side = []
        for response in (chosen, rejected):
            text = tok.apply_chat_template(
                [*prompt, {"role": "assistant", "content": response}], tokenize=False
            )
            ids = torch.tensor([tok(text, add_special_tokens=False)["input_ids"]])
            with torch.no_grad():
                hidden = backbone(input_ids=ids).last_hidden_state[0, -1].float()
            r = float(hidden @ head_w.float().reshape(-1))
            side.append(r + (float(head_b.reshape(-1)[0]) if head_b is not None else 0.0))
        out.append(tuple(side))
    return out


def _stored(store, run_id: int) -> tuple[list[tuple[float, float]], list[tuple]]:
    with store() as s:
        rows = s.execute(
            select(PairScore.score_chosen, PairScore.score_rejected, Pair.prompt, Pair.chosen)
            .join(Pair, Pair.id == PairScore.pair_id)
            .where(PairScore.run_id == run_id)
            .order_by(Pair.id)
        ).all()
        pairs = s.execute(select(Pair.prompt, Pair.chosen, Pair.rejected).order_by(Pair.id)).all()
    return [(r[0], r[1]) for r in rows], [tuple(p) for p in pairs]


def _score(store, model: str, dataset: str, **kw):
    result = run_score_job(store, model, dataset, "test", batch_size=2, progress=False, **kw)
    assert result.run.status == "done"
    stored, pairs = _stored(store, result.run.id)
    return result.run, stored, pairs


def _close(stored, expected) -> None:
    np.testing.assert_allclose(np.asarray(stored), np.asarray(expected), atol=1e-5, rtol=0)


def test_trl_sequence_classification_scores_with_its_own_head(store, dataset, tmp_path):
    folder = save(LlamaForSequenceClassification(tiny_config(num_labels=1)), tmp_path / "trl")
    run, stored, pairs = _score(store, str(folder), dataset)
    w = _weights(folder)["score.weight"]
    _close(stored, _reference(folder, pairs, w))
    assert run.config["rm_layout"]["layout"] == "trl"
    assert run.config["rm_layout"]["head"] == "trained"


def test_align_anything_head_is_read_not_replaced(store, dataset, tmp_path):
    folder = save(AccustomedLlamaRewardModel(tiny_config()), tmp_path / "aa")
    assert "score_head.weight" in _weights(folder)
    run, stored, pairs = _score(store, str(folder), dataset)
    _close(stored, _reference(folder, pairs, _weights(folder)["score_head.weight"]))
    rec = run.config["rm_layout"]
    assert rec["layout"] == "align-anything" and rec["normalized"] is False
    with store() as s:
        assert s.get(Run, run.id).checkpoint.kind == "rm"  # not an untrained "base"


@pytest.mark.parametrize("prefix", ["value_head", "score"])
def test_openrlhf_head_and_eval_normalisation(store, dataset, tmp_path, prefix):
    mean, std = 0.37, 2.5
    config = tiny_config(normalize_reward=True, mean=mean, std=std)
    if prefix == "score":
        config.value_head_prefix = "score"  # newer OpenRLHF saves it; older ones do not
    folder = save(openrlhf_class(prefix)(config), tmp_path / f"orl-{prefix}")
    cfg = json.loads((folder / "config.json").read_text())
    assert cfg["normalize_reward"] is True and cfg["mean"] == mean
    run, stored, pairs = _score(store, str(folder), dataset)
    raw = _reference(folder, pairs, _weights(folder)[f"{prefix}.weight"])
    _close(stored, [((c - mean) / std, (r - mean) / std) for c, r in raw])
    rec = run.config["rm_layout"]
    assert rec["layout"] == "openrlhf" and rec["normalized"] is True
    assert rec["normalization"]["mean"] == pytest.approx(mean)
    assert rec["normalization"]["std"] == pytest.approx(std)


def test_safe_rlhf_normaliser_in_weights_wins_and_bias_applies(store, dataset, tmp_path):
    config = tiny_config(
        score_dim=1,
        bias=True,
        score_type="reward",
        do_normalize=True,
        normalizer_type="ExponentialMovingAverage",
        momentum=0.9,
        mean=[5.0],  # stale statistics in the config: the weights' buffers override them
        var=[9.0],
    )
    model = LlamaForScore(config)
    folder = save(model, tmp_path / "beaver")
    w = _weights(folder)
    mean, var = float(w["normalizer.mean"][0]), float(w["normalizer.var"][0])
    assert var > 0  # the randomised buffer is a valid variance (the seed is fixed)
    run, stored, pairs = _score(store, str(folder), dataset)
    raw = _reference(folder, pairs, w["score_head.weight"], w["score_head.bias"])
    std = math.sqrt(var) + 1e-8
    _close(stored, [((c - mean) / std, (r - mean) / std) for c, r in raw])
    rec = run.config["rm_layout"]
    assert rec["layout"] == "safe-rlhf" and rec["normalization"]["source"] == "weights"


def test_safe_rlhf_cost_model_scales_by_config_statistics(store, dataset, tmp_path):
    config = tiny_config(
        score_dim=1, bias=False, score_type="cost", do_normalize=True, mean=[0.5], var=[4.0]
    )
    folder = save(LlamaForScore(config, with_normalizer=False), tmp_path / "cost")
    run, stored, pairs = _score(store, str(folder), dataset)
    raw = _reference(folder, pairs, _weights(folder)["score_head.weight"])
    _close(stored, [(c / (2.0 + 1e-8), r / (2.0 + 1e-8)) for c, r in raw])
    assert run.config["rm_layout"]["normalization"]["function"] == "scale"


def test_plain_causal_lm_is_marked_untrained(store, dataset, tiny_lm):
    run, _, _ = _score(store, str(tiny_lm), dataset)
    assert run.config["rm_layout"]["layout"] == "causal-lm"
    assert run.config["rm_layout"]["head"] == "untrained"


# ---- refusals: exit 2 from the command line, naming the keys and the layouts


@pytest.fixture
def cli_store(store, db_url, monkeypatch):
    """The command line writes to the test's store."""
    from preflens.config import get_settings

    monkeypatch.setenv("PREFLENS_DATABASE_URL", db_url)
    # main() writes --rm-layout into the environment; recorded here so the test's end
    # removes it again (later tests, and session fixtures, must not inherit it).
    monkeypatch.setenv("PREFLENS_RM_LAYOUT", "auto")
    get_settings.cache_clear()
    return store


def _cli(*argv: str) -> int:
    from preflens.cli.main import main

    return main(list(argv))


def test_unknown_head_key_is_refused_with_its_name(cli_store, dataset, tmp_path, capsys):
    model = AccustomedLlamaRewardModel(tiny_config())
    folder = save(model, tmp_path / "odd")
    weights = _weights(folder)
    weights["reward_proj.weight"] = weights.pop("score_head.weight")
    from safetensors.torch import save_file

    save_file(weights, str(folder / "model.safetensors"), metadata={"format": "pt"})
    assert _cli("score", "--model", str(folder), "--dataset", dataset) == 2
    err = capsys.readouterr().err
    assert "reward_proj.weight" in err and "--rm-layout" in err and "openrlhf" in err
    with cli_store() as s:
        assert s.scalars(select(Run)).all() == []  # refused before any run existed


def test_two_output_head_is_refused(cli_store, dataset, tmp_path, capsys):
    folder = save(LlamaForSequenceClassification(tiny_config(num_labels=2)), tmp_path / "two")
    assert _cli("score", "--model", str(folder), "--dataset", dataset) == 2
    err = capsys.readouterr().err
    assert "2 outputs" in err and "score.weight" in err and "--rm-layout" in err


def test_multi_objective_safe_rlhf_head_is_refused(tmp_path):
    config = tiny_config(score_dim=3, bias=False, score_type="reward")
    folder = save(LlamaForScore(config), tmp_path / "multi")
    with pytest.raises(LayoutError, match="multi-objective"):
        load_reward_model(str(folder), device="cpu")


def test_forced_layout_that_does_not_fit_is_refused(tmp_path):
    folder = save(AccustomedLlamaRewardModel(tiny_config()), tmp_path / "aa")
    with pytest.raises(LayoutError, match="score_head.weight"):
        load_reward_model(str(folder), device="cpu", layout="trl")
    with pytest.raises(ModelError, match="causal-lm layout does not use: score_head.weight"):
        load_reward_model(str(folder), device="cpu", layout="causal-lm")


def test_layout_setting_overrides_detection(tmp_path, monkeypatch):
    from preflens.config import get_settings

    folder = save(openrlhf_class("score")(tiny_config()), tmp_path / "plain")
    assert load_reward_model(str(folder), device="cpu").layout.name == "trl"
    monkeypatch.setenv("PREFLENS_RM_LAYOUT", "openrlhf")
    get_settings.cache_clear()
    rm = load_reward_model(str(folder), device="cpu")
    assert rm.layout.name == "openrlhf" and not rm.layout.detected


# ---- LoRA adapters (peft) over a local base


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
    run, stored, pairs = _score(store, str(adapter), dataset)
    w = load_file(str(tmp_path / "merged" / "model.safetensors"))["score.weight"]
    expected = _reference(tmp_path / "merged", pairs, w)
    _close(stored, expected)
    plain = _reference(base, pairs, _weights(base)["score.weight"])
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
    assert _cli("score", "--model", str(folder), "--dataset", dataset) == 2
    err = capsys.readouterr().err
    assert message in err and str(folder) in err and "Traceback" not in err


# ---- an untrained head is said up front and marked on the run


def test_untrained_head_warns_before_scoring_and_runs_mark_it(
    cli_store, dataset, tiny_lm, capsys, caplog
):
    assert _cli("score", "--model", str(tiny_lm), "--dataset", dataset) == 0
    captured = capsys.readouterr()
    warnings = [line for line in captured.err.splitlines() if line.startswith("WARNING:")]
    assert len(warnings) == 1 and "untrained head" in warnings[0] and "seed 0" in warnings[0]
    logged = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert not any("untrained" in m for m in logged)  # a printed line, not a log record
    assert _cli("runs") == 0
    table = capsys.readouterr().out
    score_lines = [line for line in table.splitlines() if " score " in line]
    assert len(score_lines) == 1 and "[untrained head]" in score_lines[0]


def test_trained_head_prints_no_warning(cli_store, dataset, tmp_path, capsys):
    folder = save(AccustomedLlamaRewardModel(tiny_config()), tmp_path / "aa")
    assert _cli("score", "--model", str(folder), "--dataset", dataset) == 0
    assert "WARNING" not in capsys.readouterr().err
    assert _cli("runs") == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if " score " in ln)
    assert "[align-anything layout]" in line and "untrained" not in line


def test_rm_layout_option_overrides_detection_for_the_run(
    cli_store, dataset, tmp_path, monkeypatch
):
    from preflens.config import get_settings

    folder = save(openrlhf_class("score")(tiny_config()), tmp_path / "plain")
    argv = ("score", "--model", str(folder), "--dataset", dataset)
    assert _cli(*argv, "--rm-layout", "openrlhf") == 0
    monkeypatch.delenv("PREFLENS_RM_LAYOUT")  # as a new process would start
    get_settings.cache_clear()
    assert _cli(*argv) == 0
    with cli_store() as s:
        runs = s.scalars(select(Run).order_by(Run.id)).all()
    # Two runs: the layout asked for is part of the run's identity.
    assert [r.config["rm_layout"]["layout"] for r in runs] == ["openrlhf", "trl"]
    assert [r.config["rm_layout"]["detected"] for r in runs] == [False, True]


def test_backbone_keys_without_the_model_prefix_load_the_same(store, dataset, tmp_path):
    """Some exports keep the backbone's own names (``layers.0...``) beside the head; the
    backbone still loads (nothing random) and the scores are those of the prefixed copy."""
    from safetensors.torch import save_file

    folder = save(AccustomedLlamaRewardModel(tiny_config()), tmp_path / "prefixed")
    bare = tmp_path / "bare"
    bare.mkdir()
    for f in folder.iterdir():
        if f.name != "model.safetensors":
            (bare / f.name).write_bytes(f.read_bytes())
    weights = {k.removeprefix("model."): v for k, v in _weights(folder).items()}
    assert "layers.0.self_attn.q_proj.weight" in weights and "score_head.weight" in weights
    save_file(weights, str(bare / "model.safetensors"), metadata={"format": "pt"})
    _, stored, pairs = _score(store, str(bare), dataset)
    _close(stored, _reference(folder, pairs, _weights(folder)["score_head.weight"]))


def test_adapter_that_carries_the_head_over_a_headless_base_is_trained(tiny_lm, tmp_path):
    """TRL's LoRA reward training saves the score head in the adapter (modules_to_save):
    over a plain causal LM that head is used, and the model is not an untrained one."""
    base = LlamaForSequenceClassification.from_pretrained(tiny_lm, num_labels=1)
    adapter, peft_model = _lora(base, tmp_path / "rm-lora", tiny_lm, task_type="SEQ_CLS")
    rm = load_reward_model(str(adapter), device="cpu")
    trained = peft_model.base_model.model.score.modules_to_save["default"].weight
    torch.testing.assert_close(rm.model.score.weight, trained)
    assert not rm.head_initialized and rm.describe()["head"] == "trained"
