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

from preflens.config import get_settings
from preflens.errors import ModelError
from training.adapters import (
    Adapter,
    adapter_weight_names,
    is_adapter,
    merge_adapter,
    read_adapter,
)
from training.fetch import resolve_model
from training.precision import assert_sdpa, choose_dtype
from training.rm_layouts import Layout, detect_layout, install_head

log = logging.getLogger(__name__)

# Used only when a tokenizer ships no chat template of its own (ChatML, as SmolLM2 uses).
FALLBACK_CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{{ message['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def resolve_base(adapter: Adapter) -> str:
    """An adapter's base model, resolved like any ``--model`` (``ModelError`` naming the
    adapter when it cannot load); a relative path is taken from the adapter's folder."""
    base = adapter.base_spec
    local = Path(base).expanduser()
    if not local.is_absolute() and (Path(adapter.path) / local).is_dir():
        base = str(Path(adapter.path) / local)
    try:
        return resolve_model(base)
    except ModelError as exc:
        raise ModelError(f"{adapter.path}: the adapter's base model cannot load: {exc}") from exc


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
    layout: Layout | None = None  # how the head was read (None: built in memory)
    adapter: Adapter | None = None  # the LoRA adapter merged into the base, if any

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def describe(self) -> dict:
        """What a run records about how this RM was read (JSON-able)."""
        return describe_reward_model(self.layout, self.adapter, self.head_initialized)


def describe_reward_model(
    layout: Layout | None, adapter: Adapter | None, head_initialized: bool
) -> dict:
    """The ``rm_layout`` record a run keeps: layout, normalisation, adapter, head state."""
    record = layout.describe() if layout is not None else {"layout": None}
    record["head"] = "untrained" if head_initialized else "trained"
    record["adapter"] = adapter.describe() if adapter is not None else None
    return record


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def requested_layout(layout: str | None) -> str:
    """The layout asked for: the argument, else ``PREFLENS_RM_LAYOUT`` (default auto)."""
    return layout or get_settings().rm_layout


@dataclass(frozen=True)
class RewardModelPlan:
    """What loading ``spec`` as a reward model will do, found from files only (no tensors
    loaded): checks a checkpoint before a run is created and lets the command line warn
    about an untrained head up front."""

    path: str  # the checkpoint (the base model's, for an adapter)
    layout: Layout
    adapter: Adapter | None
    adapter_head: bool  # the adapter carries the score head (modules_to_save)

    @property
    def head_initialized(self) -> bool:
        return self.layout.name == "causal-lm" and not self.adapter_head

    def describe(self) -> dict:
        return describe_reward_model(self.layout, self.adapter, self.head_initialized)


def plan_reward_model(spec: str | Path, layout: str | None = None) -> RewardModelPlan:
    """Resolve ``spec`` (an adapter's base too) and detect its reward-model layout.

    Raises ``ModelError`` (``LayoutError``) for weights no layout uses, a head with more
    than one output, a broken adapter or a base that cannot be found.
    """
    adapter = read_adapter(spec) if is_adapter(spec) else None
    path = resolve_base(adapter) if adapter else resolve_model(spec)
    try:
        config = AutoConfig.from_pretrained(path)
    except Exception as exc:  # noqa: BLE001 - whatever transformers raises for bad files
        raise ModelError(f"{path}: cannot read its config.json: {_reason(exc)}") from exc
    found = detect_layout(path, config, requested_layout(layout))
    adapter_head = adapter is not None and any(
        ".score." in f".{name}" for name in adapter_weight_names(adapter)
    )
    return RewardModelPlan(path, found, adapter, adapter_head)


def load_reward_model(
    spec: str | Path,
    device: str | torch.device | None = None,
    head_seed: int = 0,
    layout: str | None = None,
) -> RewardModel:
    """Load ``spec`` as a reward model (scalar head over the last non-padding token).

    The head is read as the checkpoint's layout says (``training.rm_layouts``; ``layout``
    or ``PREFLENS_RM_LAYOUT`` overrides detection), including the source framework's
    reward normalisation. A causal-LM checkpoint has no head; one is initialised from
    ``head_seed`` so that the same untrained RM gives the same scores every time
    (accuracy near 0.5). A LoRA adapter folder is merged into its base after loading.
    Weights load in ``training.precision.choose_dtype``'s dtype: float32 on a CPU (where
    bfloat16 is emulated and over 10x slower), bfloat16 on a CUDA GPU that has it.
    """
    dev = torch.device(device) if device else default_device()
    dtype = choose_dtype(dev)
    plan = plan_reward_model(spec, layout)
    path, found = plan.path, plan.layout
    tokenizer = load_tokenizer(
        plan.adapter.path if plan.adapter and plan.adapter.has_tokenizer else path
    )
    try:
        # transformers reports a missing score head as a warning table; PrefLens says
        # what it does about it in one line instead.
        with quiet_transformers():
            model, info = AutoModelForSequenceClassification.from_pretrained(
                path, num_labels=1, dtype=dtype, output_loading_info=True
            )
    except Exception as exc:  # noqa: BLE001 - a damaged checkpoint fails in many ways
        log.debug("%s failed to load as a reward model", path, exc_info=True)
        raise ModelError(f"{path}: cannot load it as a reward model: {_reason(exc)}") from exc
    missing = set(info.get("missing_keys", []))
    head_initialized = False
    if found.name in ("align-anything", "safe-rlhf", "openrlhf") or found.head_bias:
        install_head(model, path, found)
    elif any(k.startswith("score.") for k in missing):
        if found.name == "trl" and Path(path).is_dir():
            raise ModelError(f"{path}: its score head did not load ({sorted(missing)[:4]})")
        head_initialized = True
        log.info("%s has no reward head: initialised one from seed %d (untrained)", spec, head_seed)
        generator = torch.Generator().manual_seed(head_seed)
        std = getattr(model.config, "initializer_range", 0.02)
        with torch.no_grad():
            weight = torch.randn(model.score.weight.shape, generator=generator) * std
            model.score.weight.copy_(weight)
    if len(tokenizer) > model.get_input_embeddings().num_embeddings:
        model.resize_token_embeddings(len(tokenizer))
    model.config.pad_token_id = tokenizer.pad_token_id
    if plan.adapter is not None:
        model = merge_adapter(model, plan.adapter)
        head_initialized = head_initialized and not plan.adapter_head
    model.to(dev).eval()
    assert_sdpa(model, strict=False)
    # An adapter is its own model (runs and the API fingerprint its folder), not its base.
    where = plan.adapter.path if plan.adapter else path
    return RewardModel(
        model, tokenizer, str(spec), where, head_initialized, head_seed, found, plan.adapter
    )


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
    """Load a causal LM for generation (float32 on CPU; bfloat16 on a GPU that has it).
    A LoRA adapter folder loads its base and merges the adapter into it."""
    adapter = read_adapter(spec) if is_adapter(spec) else None
    path = resolve_base(adapter) if adapter else resolve_model(spec)
    dev = torch.device(device) if device else default_device()
    dtype = choose_dtype(dev)
    try:
        with quiet_transformers():
            model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype)
    except Exception as exc:  # noqa: BLE001 - a damaged checkpoint fails in many ways
        log.debug("%s failed to load as a policy", path, exc_info=True)
        raise ModelError(f"{path}: cannot load it as a policy: {_reason(exc)}") from exc
    tokenizer = load_tokenizer(adapter.path if adapter and adapter.has_tokenizer else path)
    if adapter is not None:
        model = merge_adapter(model, adapter)
    model.to(dev).eval()
    assert_sdpa(model, strict=False)
    return Policy(name or str(spec), model, tokenizer, str(spec), adapter.path if adapter else path)
