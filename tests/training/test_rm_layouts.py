"""Reward models in other frameworks' layouts: the score a score run stores equals the
framework's own forward (backbone hidden state at the last token x head, then its
normalisation), computed here independently, one unpadded conversation at a time; heads
no layout fits are refused; an untrained head is said up front and marked on the run.
LoRA adapters: ``test_adapters.py``."""

from __future__ import annotations

import json
import math

import pytest
from sqlalchemy import select
from transformers import LlamaForSequenceClassification

from db.schema import Run
from preflens.errors import ModelError
from tests.training.rm_checkpoints import (
    AccustomedLlamaRewardModel,
    LlamaForScore,
    assert_close,
    cli,
    dataset,
    openrlhf_class,
    reference_scores,
    save,
    score_run,
    tiny_config,
    weights_of,
)
from training.loading import load_reward_model
from training.rm_layouts import LayoutError

__all__ = ["dataset"]  # the fixture, imported for this module's tests


def test_trl_sequence_classification_scores_with_its_own_head(store, dataset, tmp_path):
    folder = save(LlamaForSequenceClassification(tiny_config(num_labels=1)), tmp_path / "trl")
    run, stored, pairs = score_run(store, str(folder), dataset)
    w = weights_of(folder)["score.weight"]
    assert_close(stored, reference_scores(folder, pairs, w))
    assert run.config["rm_layout"]["layout"] == "trl"
    assert run.config["rm_layout"]["head"] == "trained"


def test_align_anything_head_is_read_not_replaced(store, dataset, tmp_path):
    folder = save(AccustomedLlamaRewardModel(tiny_config()), tmp_path / "aa")
    assert "score_head.weight" in weights_of(folder)
    run, stored, pairs = score_run(store, str(folder), dataset)
    assert_close(stored, reference_scores(folder, pairs, weights_of(folder)["score_head.weight"]))
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
    run, stored, pairs = score_run(store, str(folder), dataset)
    raw = reference_scores(folder, pairs, weights_of(folder)[f"{prefix}.weight"])
    assert_close(stored, [((c - mean) / std, (r - mean) / std) for c, r in raw])
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
    w = weights_of(folder)
    mean, var = float(w["normalizer.mean"][0]), float(w["normalizer.var"][0])
    assert var > 0  # the randomised buffer is a valid variance (the seed is fixed)
    run, stored, pairs = score_run(store, str(folder), dataset)
    raw = reference_scores(folder, pairs, w["score_head.weight"], w["score_head.bias"])
    std = math.sqrt(var) + 1e-8
    assert_close(stored, [((c - mean) / std, (r - mean) / std) for c, r in raw])
    rec = run.config["rm_layout"]
    assert rec["layout"] == "safe-rlhf" and rec["normalization"]["source"] == "weights"


def test_safe_rlhf_cost_model_scales_by_config_statistics(store, dataset, tmp_path):
    config = tiny_config(
        score_dim=1, bias=False, score_type="cost", do_normalize=True, mean=[0.5], var=[4.0]
    )
    folder = save(LlamaForScore(config, with_normalizer=False), tmp_path / "cost")
    run, stored, pairs = score_run(store, str(folder), dataset)
    raw = reference_scores(folder, pairs, weights_of(folder)["score_head.weight"])
    assert_close(stored, [(c / (2.0 + 1e-8), r / (2.0 + 1e-8)) for c, r in raw])
    assert run.config["rm_layout"]["normalization"]["function"] == "scale"


def test_plain_causal_lm_is_marked_untrained(store, dataset, tiny_lm):
    run, _, _ = score_run(store, str(tiny_lm), dataset)
    assert run.config["rm_layout"]["layout"] == "causal-lm"
    assert run.config["rm_layout"]["head"] == "untrained"


# ---- refusals: exit 2 from the command line, naming the keys and the layouts


def test_unknown_head_key_is_refused_with_its_name(cli_store, dataset, tmp_path, capsys):
    model = AccustomedLlamaRewardModel(tiny_config())
    folder = save(model, tmp_path / "odd")
    weights = weights_of(folder)
    weights["reward_proj.weight"] = weights.pop("score_head.weight")
    from safetensors.torch import save_file

    save_file(weights, str(folder / "model.safetensors"), metadata={"format": "pt"})
    assert cli("score", "--model", str(folder), "--dataset", dataset) == 2
    err = capsys.readouterr().err
    assert "reward_proj.weight" in err and "--rm-layout" in err and "openrlhf" in err
    with cli_store() as s:
        assert s.scalars(select(Run)).all() == []  # refused before any run existed


def test_two_output_head_is_refused(cli_store, dataset, tmp_path, capsys):
    folder = save(LlamaForSequenceClassification(tiny_config(num_labels=2)), tmp_path / "two")
    assert cli("score", "--model", str(folder), "--dataset", dataset) == 2
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


# ---- an untrained head is said up front and marked on the run


def test_untrained_head_warns_before_scoring_and_runs_mark_it(
    cli_store, dataset, tiny_lm, capsys, caplog
):
    assert cli("score", "--model", str(tiny_lm), "--dataset", dataset) == 0
    captured = capsys.readouterr()
    warnings = [line for line in captured.err.splitlines() if line.startswith("WARNING:")]
    assert len(warnings) == 1 and "untrained head" in warnings[0] and "seed 0" in warnings[0]
    logged = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert not any("untrained" in m for m in logged)  # a printed line, not a log record
    assert cli("runs") == 0
    table = capsys.readouterr().out
    score_lines = [line for line in table.splitlines() if " score " in line]
    assert len(score_lines) == 1 and "[untrained head]" in score_lines[0]


def test_trained_head_prints_no_warning(cli_store, dataset, tmp_path, capsys):
    folder = save(AccustomedLlamaRewardModel(tiny_config()), tmp_path / "aa")
    assert cli("score", "--model", str(folder), "--dataset", dataset) == 0
    assert "WARNING" not in capsys.readouterr().err
    assert cli("runs") == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if " score " in ln)
    assert "[align-anything layout]" in line and "untrained" not in line


def test_rm_layout_option_overrides_detection_for_the_run(cli_store, dataset, tmp_path):
    folder = save(openrlhf_class("score")(tiny_config()), tmp_path / "plain")
    argv = ("score", "--model", str(folder), "--dataset", dataset)
    assert cli(*argv, "--rm-layout", "openrlhf") == 0
    assert cli(*argv) == 0  # the option applied to its own command only
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
    weights = {k.removeprefix("model."): v for k, v in weights_of(folder).items()}
    assert "layers.0.self_attn.q_proj.weight" in weights and "score_head.weight" in weights
    save_file(weights, str(bare / "model.safetensors"), metadata={"format": "pt"})
    _, stored, pairs = score_run(store, str(bare), dataset)
    assert_close(stored, reference_scores(folder, pairs, weights_of(folder)["score_head.weight"]))
