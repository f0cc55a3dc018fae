"""Reward-model checkpoint layouts: which weights hold the scalar head and how the source
framework turns its output into a reward.

A layout is detected from the checkpoint's weight names (read from the safetensors
headers or the shard index, never by loading the tensors) and ``config.json``:

- ``trl``: transformers ``*ForSequenceClassification`` (``score.weight``, one output);
- ``align-anything``: ``score_head.weight`` (``Linear(hidden, 1, bias=False)``), no
  normalisation;
- ``safe-rlhf``: ``<Arch>ForScore`` (``score_head`` with an optional bias, a normaliser
  whose mean and variance sit in ``normalizer.*`` weights or in the config);
- ``openrlhf``: the head named by ``config.value_head_prefix`` (``score``, older
  ``value_head``), ``(r - mean) / std`` when ``config.normalize_reward`` is set;
- ``causal-lm``: no head at all; PrefLens initialises an untrained one from a seed.

Weight names that no layout uses are refused (``LayoutError``), never silently dropped
for a random head. The backbone always loads through transformers'
``AutoModelForSequenceClassification``; for the non-TRL layouts its ``score`` module is
replaced by a ``ScalarHead`` built from the checkpoint's own head tensors.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from preflens.errors import ModelError

log = logging.getLogger(__name__)

LAYOUTS = ("auto", "trl", "align-anything", "safe-rlhf", "openrlhf", "causal-lm")
LAYOUT_CHOICES = ", ".join(LAYOUTS)

# safe-rlhf adds this to the standard deviation before dividing (Normalizer.normalize).
SAFE_RLHF_EPSILON = 1e-8
# safe-rlhf derives its normalize function from the score type.
SAFE_RLHF_FUNCTIONS = {"reward": "affine", "cost": "scale", "critic": "identity"}
SAFE_RLHF_CONFIG_KEYS = ("score_type", "score_dim", "do_normalize", "normalizer_type")
SAFE_RLHF_NORMALIZER = ("normalizer.mean", "normalizer.var", "normalizer.count")
OPENRLHF_CONFIG_KEYS = ("value_head_prefix", "normalize_reward")


class LayoutError(ModelError):
    """A checkpoint whose head weights match no known layout (or not the one asked for)."""


@dataclass(frozen=True)
class Normalization:
    """The affine map a framework applies to the head output: ``(r - shift) / scale``."""

    framework: str
    function: str  # affine | scale | translate | identity (safe-rlhf's names)
    applied: bool
    mean: float | None = None
    std: float | None = None  # safe-rlhf: sqrt(var) + epsilon; OpenRLHF: config.std
    source: str = "config"  # where the statistics were read: config | weights | default

    def apply(self, rewards: torch.Tensor) -> torch.Tensor:
        """Normalise float32 rewards exactly as the framework does at inference."""
        if not self.applied or self.function == "identity":
            return rewards
        mean = torch.tensor(self.mean or 0.0, dtype=torch.float32, device=rewards.device)
        std = torch.tensor(
            1.0 if self.std is None else self.std, dtype=torch.float32, device=rewards.device
        )
        if self.function == "affine":
            return (rewards - mean) / std
        if self.function == "scale":
            return rewards / std
        return rewards - mean  # translate


@dataclass(frozen=True)
class Layout:
    """What was detected (or asked for): the layout name, the head's weight names and the
    normalisation the source framework applies."""

    name: str
    head_weight: str | None = None
    head_bias: str | None = None
    normalization: Normalization | None = None
    detected: bool = True  # False when --rm-layout / PREFLENS_RM_LAYOUT chose it

    def describe(self) -> dict[str, Any]:
        """A JSON-able record for the run's config."""
        norm = self.normalization
        return {
            "layout": self.name,
            "detected": self.detected,
            "head_weight": self.head_weight,
            "head_bias": self.head_bias,
            "normalization": asdict(norm) if norm is not None else None,
            "normalized": bool(norm is not None and norm.applied and norm.function != "identity"),
        }


class ScalarHead(nn.Module):
    """A one-output linear head read in float32, then the framework's normalisation.

    Registered as the model's ``score`` module, so every PrefLens forward (pair scores,
    per-token rewards, the API batcher) uses it unchanged. The normalisation constants
    are plain floats, not buffers, so a saved model holds only ``score.weight``/``.bias``.
    """

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None, norm: Normalization | None):
        super().__init__()
        self.weight = nn.Parameter(weight.detach().to(torch.float32).clone())
        self.bias = None if bias is None else nn.Parameter(bias.detach().float().clone())
        self.norm = norm

    reads_float32 = True  # training.precision.float32_head calls it as it is

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        bias = None if self.bias is None else self.bias.float()
        with torch.autocast(hidden.device.type, enabled=False):
            out = nn.functional.linear(hidden.float(), self.weight.float(), bias)
            return out if self.norm is None else self.norm.apply(out)


# ---- reading a checkpoint's weight names and shapes without loading it


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path}: cannot read it: {exc}") from exc


def weight_files(folder: Path) -> dict[str, Path]:
    """Weight name -> the file that holds it (single file or shards from the index)."""
    for index in ("model.safetensors.index.json", "pytorch_model.bin.index.json"):
        if (folder / index).is_file():
            weight_map = _read_json(folder / index).get("weight_map", {})
            return {str(k): folder / str(v) for k, v in weight_map.items()}
    for name in ("model.safetensors", "pytorch_model.bin"):
        if (folder / name).is_file():
            return {k: folder / name for k in file_shapes(folder / name)}
    return {}


def file_shapes(file: Path) -> dict[str, tuple[int, ...]]:
    """Weight names and shapes of one weights file."""
    if file.suffix == ".safetensors":
        from safetensors import safe_open

        with safe_open(str(file), framework="pt") as fh:  # reads the header only
            return {k: tuple(fh.get_slice(k).get_shape()) for k in fh.keys()}  # noqa: SIM118
    state = torch.load(file, map_location="cpu", mmap=True, weights_only=True)
    return {k: tuple(v.shape) for k, v in state.items()}


def weight_shapes(folder: Path) -> dict[str, tuple[int, ...]]:
    """Every weight name of a local checkpoint with its shape (headers only for
    safetensors; a pickled ``.bin`` is memory-mapped, not read)."""
    shapes: dict[str, tuple[int, ...]] = {}
    for file in sorted(set(weight_files(folder).values())):
        shapes.update(file_shapes(file))
    return shapes


def read_tensor(folder: Path, name: str) -> torch.Tensor:
    """One weight of a local checkpoint, from whichever file holds it."""
    file = weight_files(folder)[name]
    if file.suffix == ".safetensors":
        from safetensors import safe_open

        with safe_open(str(file), framework="pt") as fh:
            return fh.get_tensor(name)
    return torch.load(file, map_location="cpu", mmap=True, weights_only=True)[name]


# ---- detection


def _backbone_names(config: Any) -> tuple[str, dict[str, tuple[int, ...]]]:
    """The sequence-classification model's backbone attribute (``model`` for Llama/Qwen2)
    and the backbone's own weight names and shapes, from a model built on the meta device."""
    from transformers import AutoModel, AutoModelForSequenceClassification

    with torch.device("meta"):
        backbone = AutoModel.from_config(config)
    prefix = getattr(backbone, "base_model_prefix", "model") or "model"
    try:
        cls = AutoModelForSequenceClassification._model_mapping[type(config)]
        prefix = cls.base_model_prefix or prefix
    except KeyError:
        pass
    return prefix, {k: tuple(v.shape) for k, v in backbone.state_dict().items()}


def _ignorable(name: str) -> bool:
    # The LM head is dropped by every RM; rotary caches were saved by older Llama code.
    return name.startswith("lm_head.") or name.endswith("rotary_emb.inv_freq")


def head_keys(shapes: dict[str, tuple[int, ...]], config: Any, path: str = "") -> set[str]:
    """Weight names that belong to neither the backbone nor the (ignored) LM head.
    A backbone weight whose shape differs from what config.json builds is a ``ModelError``."""
    prefix, names = _backbone_names(config)
    extra = set()
    for key, shape in shapes.items():
        bare = key[len(prefix) + 1 :] if key.startswith(prefix + ".") else key
        expected = names.get(bare, names.get(key))
        if expected is not None and expected != shape:
            raise ModelError(
                f"{path}: cannot load it as a reward model: its weights do not fit config.json "
                f"(tensor shapes differ: {key} is {list(shape)}, config.json makes it "
                f"{list(expected)})"
            )
        if expected is not None or _ignorable(key):
            continue
        extra.add(key)
    return extra


def _guess(extra: set[str], cfg: dict[str, Any]) -> str | None:
    if "score_head.weight" in extra:
        archs = cfg.get("architectures") or []
        safe = (
            any(k in cfg for k in SAFE_RLHF_CONFIG_KEYS)
            or any(k.startswith("normalizer.") for k in extra)
            or any(str(a).endswith("ForScore") for a in archs)
        )
        return "safe-rlhf" if safe else "align-anything"
    if any(k in cfg for k in OPENRLHF_CONFIG_KEYS) or "value_head.weight" in extra:
        return "openrlhf"
    if "score.weight" in extra:
        return "trl"
    if not extra:
        return "causal-lm"
    return None


def _expected(name: str, extra: set[str], cfg: dict[str, Any]) -> tuple[str | None, str | None]:
    """The head weight and bias names the layout ``name`` reads."""
    if name == "trl":
        return "score.weight", ("score.bias" if "score.bias" in extra else None)
    if name == "align-anything":
        return "score_head.weight", None
    if name == "safe-rlhf":
        return "score_head.weight", ("score_head.bias" if cfg.get("bias", False) else None)
    if name == "openrlhf":
        prefix = cfg.get("value_head_prefix")
        if not prefix:
            prefix = "value_head" if "value_head.weight" in extra else "score"
        return f"{prefix}.weight", None
    return None, None


def _refuse(path: str, what: str, keys: set[str] | list[str]) -> LayoutError:
    shown = ", ".join(sorted(keys)[:8]) + (" …" if len(keys) > 8 else "")
    return LayoutError(
        f"{path}: {what}: {shown}. Known reward-model layouts: {LAYOUT_CHOICES} "
        "(choose one with --rm-layout or PREFLENS_RM_LAYOUT)"
    )


def detect_layout(path: str, config: Any, requested: str = "auto") -> Layout:
    """The layout of the local checkpoint ``path`` (``requested`` other than ``auto``
    overrides detection, but the weights must still fit it). Raises ``LayoutError`` for
    head weights no layout uses, a head with more than one output or a missing head."""
    if requested not in LAYOUTS:
        raise LayoutError(f"--rm-layout {requested!r}: expected one of {LAYOUT_CHOICES}")
    folder = Path(path)
    if not folder.is_dir():  # a hub id: nothing local to inspect; transformers' own class
        return Layout("trl" if requested == "auto" else requested, "score.weight", None, None)
    shapes = weight_shapes(folder)
    cfg = _read_json(folder / "config.json")
    extra = head_keys(shapes, config, path)
    name = _guess(extra, cfg) if requested == "auto" else requested
    if name is None:
        raise _refuse(path, "its weights hold keys that no known head layout uses", extra)
    weight, bias = _expected(name, extra, cfg)
    used = {k for k in (weight, bias) if k}
    if name == "safe-rlhf":
        used |= {k for k in SAFE_RLHF_NORMALIZER if k in extra}
    unexpected = extra - used
    if unexpected:
        raise _refuse(path, f"weights that the {name} layout does not use", unexpected)
    missing = used - set(shapes)
    if missing:
        raise _refuse(path, f"the {name} layout needs weights the checkpoint lacks", missing)
    if weight is not None:
        _check_head_shape(path, name, weight, shapes[weight], cfg, config)
    norm = _normalization(name, folder, cfg, shapes)
    return Layout(name, weight, bias, norm, detected=requested == "auto")


def _check_head_shape(
    path: str, name: str, weight: str, shape: tuple[int, ...], cfg: dict[str, Any], config: Any
) -> None:
    score_dim = cfg.get("score_dim", 1) if name == "safe-rlhf" else 1
    outputs = shape[0] if len(shape) == 2 else -1
    if outputs != 1 or score_dim != 1:
        kind = "a multi-objective head" if max(outputs, score_dim) > 2 or score_dim > 1 else ""
        kind = kind or f"a head with {outputs} outputs"
        raise _refuse(
            path,
            f"{kind} (shape {list(shape)}, score_dim {score_dim}); PrefLens scores with a "
            "one-output reward head only; the head weights are",
            {weight},
        )
    hidden = getattr(config, "hidden_size", None)
    if hidden is not None and shape[1] != hidden:
        raise _refuse(path, f"a head of width {shape[1]}, but hidden_size is {hidden}", {weight})


def _first(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return float(value[0]) if value else None
    return float(value)


def _normalization(
    name: str, folder: Path, cfg: dict[str, Any], shapes: dict[str, tuple[int, ...]]
) -> Normalization | None:
    if name == "openrlhf":
        # OpenRLHF copies config.mean / config.std into float32 buffers (default 0 / 1)
        # and normalises only in eval mode, which is how a reward model is served.
        has_stats = "mean" in cfg
        mean = _first(cfg.get("mean")) if has_stats else 0.0
        std = _first(cfg.get("std")) if has_stats else 1.0
        return Normalization(
            "openrlhf",
            "affine",
            bool(cfg.get("normalize_reward", False)),
            _f32(mean),
            _f32(std),
            "config" if has_stats else "default",
        )
    if name == "safe-rlhf":
        score_type = cfg.get("score_type")
        if score_type is not None:
            function = SAFE_RLHF_FUNCTIONS.get(score_type)
            if function is None:
                raise LayoutError(
                    f"{folder}: score_type {score_type!r} in config.json; safe-rlhf knows "
                    f"{', '.join(SAFE_RLHF_FUNCTIONS)}"
                )
        else:
            function = cfg.get("normalize_function", "affine")
        # The normaliser's buffers are loaded after __init__ set them from the config,
        # so statistics in the weights win over those in config.json.
        if "normalizer.mean" in shapes and "normalizer.var" in shapes:
            mean = _first(read_tensor(folder, "normalizer.mean").float().tolist())
            var = _first(read_tensor(folder, "normalizer.var").float().tolist())
            source = "weights"
        elif "mean" in cfg or "var" in cfg:
            mean, var, source = _first(cfg.get("mean")), _first(cfg.get("var")), "config"
        else:
            mean, var, source = None, None, "default"
        mean = 0.0 if mean is None else mean
        var = 1.0 if var is None else var
        std = float(torch.tensor(var, dtype=torch.float32).sqrt() + SAFE_RLHF_EPSILON)
        return Normalization(
            "safe-rlhf",
            function,
            bool(cfg.get("do_normalize", False)),
            _f32(mean),
            std,
            source,
        )
    return None


def _f32(value: float | None) -> float | None:
    """The value as the framework holds it: a float32 buffer."""
    return None if value is None else float(torch.tensor(value, dtype=torch.float32))


def install_head(model: nn.Module, folder: str, layout: Layout) -> None:
    """Replace ``model.score`` by the checkpoint's own head (non-TRL layouts)."""
    weight = read_tensor(Path(folder), layout.head_weight)
    bias = read_tensor(Path(folder), layout.head_bias) if layout.head_bias else None
    model.score = ScalarHead(weight, bias, layout.normalization)
    log.info("%s: %s layout, head %s", folder, layout.name, layout.head_weight)
