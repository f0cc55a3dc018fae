"""Tiny reward-model checkpoints in other frameworks' layouts, for the layout tests.

Each class mirrors the module tree of the framework's reward model (attribute names,
head shape, buffers) and is saved with ``save_pretrained``, which is what those
frameworks' save code calls; config fields are set the way their trainers set them.
The test then computes scores with its own forward, independent of PrefLens.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from sqlalchemy import select
from torch import nn
from transformers import LlamaConfig, LlamaModel, LlamaPreTrainedModel

from db.schema import Pair, PairScore
from tests.factories import ingest_test_split, make_tokenizer, tiny_llama_config
from training.jobs.score import run_score_job

HIDDEN = 32


@pytest.fixture
def dataset(store, tmp_path):
    """Five test-split pairs ingested as dataset "p": what the checkpoints here score."""
    return ingest_test_split(store, tmp_path, "p", 5)


def tiny_config(**extra) -> LlamaConfig:
    """The tiny Llama config (``HIDDEN`` wide, untied embeddings), ``extra`` set on it."""
    return tiny_llama_config(**extra)


class AccustomedLlamaRewardModel(LlamaPreTrainedModel):
    """align-anything: backbone under ``model``, ``score_head = Linear(hidden, 1, bias=False)``."""

    def __init__(self, config: LlamaConfig):
        super().__init__(config)
        setattr(self, self.base_model_prefix, LlamaModel(config))
        self.score_head = nn.Linear(config.hidden_size, 1, bias=False)
        self.post_init()


class _Normalizer(nn.Module):
    """safe-rlhf's normaliser buffers (persistent: saved as ``normalizer.*``)."""

    def __init__(self, dim: int):
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("var", torch.ones(dim))
        self.register_buffer("count", torch.zeros(1, dtype=torch.long))


class LlamaForScore(LlamaPreTrainedModel):
    """safe-rlhf: ``model`` backbone, ``score_head`` (bias from config), ``normalizer``."""

    def __init__(self, config: LlamaConfig, with_normalizer: bool = True):
        super().__init__(config)
        self.model = LlamaModel(config)
        config.architectures = [self.__class__.__name__]
        self.score_head = nn.Linear(config.hidden_size, config.score_dim, bias=config.bias)
        if with_normalizer:
            self.normalizer = _Normalizer(config.score_dim)
        self.post_init()


def openrlhf_class(prefix: str) -> type:
    """OpenRLHF builds its reward model class at run time with the head named ``prefix``."""

    class RewardModel(LlamaPreTrainedModel):
        def __init__(self, config: LlamaConfig):
            super().__init__(config)
            setattr(self, self.base_model_prefix, LlamaModel(config))
            setattr(self, prefix, nn.Linear(config.hidden_size, 1, bias=False))
            # mean/std are non-persistent buffers: only config.json keeps them.
            self.register_buffer("mean", torch.zeros(1), persistent=False)
            self.register_buffer("std", torch.ones(1), persistent=False)
            self.post_init()

    return RewardModel


def save(model: nn.Module, folder: Path, seed: int = 0) -> Path:
    """Randomise every weight (heads and norms too, so nothing is trivially 0 or 1) and
    save the model with the tiny tokenizer."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.3)
    model.save_pretrained(folder)
    make_tokenizer().save_pretrained(folder)
    return folder


# ---- scoring them: PrefLens's stored scores and an independent forward


def weights_of(folder: Path) -> dict[str, torch.Tensor]:
    return load_file(str(folder / "model.safetensors"))


def reference_scores(folder: Path, pairs, head_w, head_b=None) -> list[tuple[float, float]]:
    """The framework's forward, written out: a bare Llama backbone from the checkpoint's
    ``model.*`` weights, its last hidden state at the conversation's last token, times
    the head (float32). No padding, so no mask logic is shared with PrefLens."""
    from transformers import AutoConfig, AutoTokenizer

    config = AutoConfig.from_pretrained(folder)
    weights = weights_of(folder)
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


def stored_scores(store, run_id: int) -> tuple[list[tuple[float, float]], list[tuple]]:
    with store() as s:
        rows = s.execute(
            select(PairScore.score_chosen, PairScore.score_rejected, Pair.prompt, Pair.chosen)
            .join(Pair, Pair.id == PairScore.pair_id)
            .where(PairScore.run_id == run_id)
            .order_by(Pair.id)
        ).all()
        pairs = s.execute(select(Pair.prompt, Pair.chosen, Pair.rejected).order_by(Pair.id)).all()
    return [(r[0], r[1]) for r in rows], [tuple(p) for p in pairs]


def score_run(store, model: str, dataset: str, **kw):
    result = run_score_job(store, model, dataset, "test", batch_size=2, progress=False, **kw)
    assert result.run.status == "done"
    stored, pairs = stored_scores(store, result.run.id)
    return result.run, stored, pairs


def assert_close(stored, expected) -> None:
    np.testing.assert_allclose(np.asarray(stored), np.asarray(expected), atol=1e-5, rtol=0)


def cli(*argv: str) -> int:
    from preflens.cli.main import main

    return main(list(argv))
