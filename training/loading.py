"""Loading checkpoints into memory: tokenizers (with a pad token and a chat template),
reward models (a scalar head over the last non-padding token) and policies (causal LMs
for generation). Where the files come from is ``training.fetch``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import (
    AutoConfig,
    AutoModelForCausalLM,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from preflens.errors import ModelError
from training.fetch import resolve_model

log = logging.getLogger(__name__)

# Used only when a tokenizer ships no chat template of its own (ChatML, as SmolLM2 uses).
FALLBACK_CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{{ message['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def _reason(exc: BaseException) -> str:
    """An exception from transformers / safetensors as one short line."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = lines[0] if lines else type(exc).__name__
    if "ignore_mismatched_sizes" in text:  # transformers points at a report we silenced
        text = "its weights do not fit config.json (tensor shapes differ)"
    return text if len(text) <= 300 else text[:300] + " …"


def load_tokenizer(path: str) -> PreTrainedTokenizerBase:
    """Load a tokenizer, giving it a pad token and a chat template when it has none."""
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
    except Exception as exc:  # noqa: BLE001 - whatever transformers raises for bad files
        log.debug("tokenizer of %s failed to load", path, exc_info=True)
        raise ModelError(f"{path}: cannot load its tokenizer: {_reason(exc)}") from exc
    if tokenizer.pad_token is None:
        fallback = tokenizer.eos_token or tokenizer.unk_token
        if fallback is None:
            tokenizer.add_special_tokens({"pad_token": "<pad>"})
        else:
            tokenizer.pad_token = fallback
    if not tokenizer.chat_template:
        log.warning("%s has no chat template; using a plain ChatML template", path)
        tokenizer.chat_template = FALLBACK_CHAT_TEMPLATE
    return tokenizer


@contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' load reports and progress bars for a block."""
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        if bars:
            hf_logging.enable_progress_bar()


@dataclass
class RewardModel:
    """A loaded reward model: sequence-classification model, tokenizer and where it came from."""

    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    spec: str
    path: str
    head_initialized: bool  # True when the checkpoint had no score head (an untrained RM)
    head_seed: int

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def load_reward_model(
    spec: str | Path, device: str | torch.device | None = None, head_seed: int = 0
) -> RewardModel:
    """Load ``spec`` as a reward model (scalar head over the last non-padding token).

    A causal-LM checkpoint has no ``score`` head; it is initialised from ``head_seed`` so
    that the same untrained RM gives the same scores every time (accuracy near 0.5).
    Weights are float32: bfloat16 is emulated on CPU and over 10x slower there.
    """
    path = resolve_model(spec)
    tokenizer = load_tokenizer(path)
    try:
        # transformers reports the missing score head as a warning table; PrefLens says
        # what it does about it in one line instead.
        with quiet_transformers():
            model, info = AutoModelForSequenceClassification.from_pretrained(
                path, num_labels=1, dtype=torch.float32, output_loading_info=True
            )
    except Exception as exc:  # noqa: BLE001 - a damaged checkpoint fails in many ways
        log.debug("%s failed to load as a reward model", path, exc_info=True)
        raise ModelError(f"{path}: cannot load it as a reward model: {_reason(exc)}") from exc
    missing = set(info.get("missing_keys", []))
    head_initialized = any(k.startswith("score.") for k in missing)
    if head_initialized:
        log.info("%s has no reward head: initialised one from seed %d (untrained)", spec, head_seed)
        generator = torch.Generator().manual_seed(head_seed)
        std = getattr(model.config, "initializer_range", 0.02)
        with torch.no_grad():
            weight = torch.randn(model.score.weight.shape, generator=generator) * std
            model.score.weight.copy_(weight)
    if len(tokenizer) > model.get_input_embeddings().num_embeddings:
        model.resize_token_embeddings(len(tokenizer))
    model.config.pad_token_id = tokenizer.pad_token_id
    model.to(device or default_device()).eval()
    return RewardModel(model, tokenizer, str(spec), path, head_initialized, head_seed)


def describe_config(path: str) -> dict:
    """A small, JSON-able description of a checkpoint's architecture."""
    try:
        cfg = AutoConfig.from_pretrained(path)
    except OSError:
        return {}
    return {"model_type": cfg.model_type, "architectures": cfg.architectures}


def freeze_all_but_last(model: torch.nn.Module, n_layers: int) -> None:
    """Train only the last ``n_layers`` transformer blocks, the final norm and the head
    (a cheaper run: the frozen blocks need no gradients or optimizer state). Works
    for reward models and causal LMs; an output layer tied to the embeddings stays frozen."""
    backbone = getattr(model, model.base_model_prefix)
    for p in backbone.parameters():
        p.requires_grad_(False)
    for block in backbone.layers[len(backbone.layers) - n_layers :]:
        for p in block.parameters():
            p.requires_grad_(True)
    for p in backbone.norm.parameters():
        p.requires_grad_(True)


@dataclass
class Policy:
    name: str
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    spec: str
    path: str

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device


def load_policy(spec: str, name: str | None = None, device: str | None = None) -> Policy:
    """Load a causal LM for generation (float32 on CPU; bfloat16 on a GPU that has it)."""
    path = resolve_model(spec)
    dev = torch.device(device) if device else default_device()
    dtype = (
        torch.bfloat16 if dev.type == "cuda" and torch.cuda.is_bf16_supported() else torch.float32
    )
    try:
        with quiet_transformers():
            model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype)
    except Exception as exc:  # noqa: BLE001 - a damaged checkpoint fails in many ways
        log.debug("%s failed to load as a policy", path, exc_info=True)
        raise ModelError(f"{path}: cannot load it as a policy: {_reason(exc)}") from exc
    tokenizer = load_tokenizer(path)
    model.to(dev).eval()
    return Policy(name or str(spec), model, tokenizer, str(spec), path)
