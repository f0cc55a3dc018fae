"""dtype choice (follows the device; --dtype / PREFLENS_DTYPE override), float32 head
reads, and bfloat16 against float32 scores of a tiny model within the documented bound."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from preflens.config import get_settings
from preflens.errors import ModelError, SettingsError
from training.loading import load_reward_model
from training.precision import assert_sdpa, choose_dtype, float32_head
from training.scoring import encode, score_encoded

# docs/reference/settings.md "Precision": |bf16 score - fp32 score| <= BOUND x ||w|| x
# sqrt(hidden), the scale of a score whose final hidden state has RMS 1 (the models end in
# an RMSNorm).
BOUND = 0.01


@pytest.mark.parametrize(
    ("device", "bf16", "override", "expected"),
    [
        ("cpu", False, "auto", torch.float32),
        ("cpu", True, "auto", torch.float32),  # a CPU stays float32 by default
        ("cuda", True, "auto", torch.bfloat16),
        ("cuda:1", True, "auto", torch.bfloat16),
        ("cuda", False, "auto", torch.float32),  # a GPU without bfloat16
        ("cuda", True, "float32", torch.float32),
        ("cuda", False, "float16", torch.float16),
        ("cpu", False, "bfloat16", torch.bfloat16),
    ],
)
def test_choice_follows_device_and_override(device, bf16, override, expected):
    assert choose_dtype(device, override, bf16_supported=bf16) is expected


def test_bfloat16_asked_on_a_gpu_without_it_is_refused():
    with pytest.raises(ModelError, match="no bfloat16"):
        choose_dtype("cuda", "bfloat16", bf16_supported=False)
    with pytest.raises(ModelError, match="unknown dtype"):
        choose_dtype("cpu", "float8")


def test_setting_is_the_default_override(monkeypatch):
    assert choose_dtype("cpu", bf16_supported=False) is torch.float32
    monkeypatch.setenv("PREFLENS_DTYPE", "bfloat16")
    get_settings.cache_clear()
    assert choose_dtype("cpu", bf16_supported=False) is torch.bfloat16
    monkeypatch.setenv("PREFLENS_DTYPE", "float64")
    get_settings.cache_clear()
    with pytest.raises(SettingsError, match="PREFLENS_DTYPE: expected one of auto"):
        get_settings()


def test_cli_dtype_option_sets_the_setting_for_one_command(monkeypatch):
    """--dtype (and --rm-layout) are the settings while the command runs, and the
    environment is as it was afterwards (an in-process command leaves nothing behind)."""
    import argparse

    from preflens.cli.main import main
    from preflens.cli.rm_layout import options_as_settings

    monkeypatch.delenv("PREFLENS_DTYPE", raising=False)
    monkeypatch.setenv("PREFLENS_RM_LAYOUT", "openrlhf")
    get_settings.cache_clear()
    args = argparse.Namespace(dtype="float16", rm_layout="trl")
    with options_as_settings(args):
        assert get_settings().dtype == "float16"
        assert get_settings().rm_layout == "trl"
        assert choose_dtype("cuda", bf16_supported=True) is torch.float16
    assert "PREFLENS_DTYPE" not in os.environ
    assert os.environ["PREFLENS_RM_LAYOUT"] == "openrlhf"
    assert get_settings().dtype == "auto" and get_settings().rm_layout == "openrlhf"
    assert main(["--dtype", "float16", "runs"]) == 0
    assert "PREFLENS_DTYPE" not in os.environ and get_settings().dtype == "auto"


def test_head_is_read_in_float32():
    torch.manual_seed(0)
    head = torch.nn.Linear(64, 1, bias=True).to(torch.bfloat16)
    hidden = torch.randn(16, 64).to(torch.bfloat16)
    with torch.no_grad():
        got = float32_head(head, hidden).squeeze(-1)
        rounded = head(hidden).squeeze(-1).double()  # what a bfloat16 head returns
    assert got.dtype is torch.float32
    exact = (hidden.double() @ head.weight.double().T + head.bias.double()).detach()
    np.testing.assert_allclose(got.double().numpy(), exact.squeeze(-1).numpy(), rtol=1e-5)
    assert (rounded - exact.squeeze(-1)).abs().max() > 1e-4


def test_bfloat16_scores_agree_with_float32(tiny_lm):
    rm = load_reward_model(str(tiny_lm), device="cpu", head_seed=0)
    assert_sdpa(rm.model)
    texts = [
        ("Tell me about water. " * (1 + i % 4), "Water boils at sea level. " * (1 + i % 5))
        for i in range(24)
    ]
    enc = [encode(rm.tokenizer, [{"role": "user", "content": p}], r, 512) for p, r in texts]
    fp32 = score_encoded(rm, enc, batch_size=8)
    rm.model.to(torch.bfloat16)
    bf16 = score_encoded(rm, enc, batch_size=8)
    scale = float(rm.model.score.weight.detach().float().norm()) * rm.model.config.hidden_size**0.5
    err = np.abs(bf16 - fp32).max()
    assert 0 < err <= BOUND * scale, (err, scale)


def test_loaders_follow_the_dtype_setting(tiny_lm, monkeypatch):
    from training.loading import load_policy

    assert load_reward_model(str(tiny_lm), device="cpu").model.dtype is torch.float32
    assert load_policy(str(tiny_lm), device="cpu").model.dtype is torch.float32
    monkeypatch.setenv("PREFLENS_DTYPE", "bfloat16")
    get_settings.cache_clear()
    rm = load_reward_model(str(tiny_lm), device="cpu")
    assert rm.model.dtype is torch.bfloat16
    assert rm.model.config._attn_implementation == "sdpa"
    enc = [encode(rm.tokenizer, [{"role": "user", "content": "Hi"}], "Hello there.", 64)]
    assert np.isfinite(score_encoded(rm, enc)).all()
    assert load_policy(str(tiny_lm), device="cpu").model.dtype is torch.bfloat16
