"""PEFT / LoRA adapter folders: an ``adapter_config.json`` and the adapter weights over a
base model named in that config. The base is resolved like any ``--model`` (a local
folder, a ``.gguf`` file, the embedded alias or a hub id: ``training.loading``), so
adapters work offline when their base is local. The adapter is merged into the base
weights after loading, so the rest of PrefLens sees a plain model.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from preflens.errors import ModelError

log = logging.getLogger(__name__)

ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model", "vocab.json")


@dataclass(frozen=True)
class Adapter:
    """A checked adapter folder and the base model it applies to."""

    path: str
    base_spec: str
    peft_type: str
    task_type: str | None
    has_tokenizer: bool

    def describe(self) -> dict[str, Any]:
        return {"adapter": self.path, "base": self.base_spec, "peft_type": self.peft_type}


def is_adapter(spec: str | Path) -> bool:
    """Whether ``spec`` is a local folder holding a PEFT adapter (not a full checkpoint)."""
    path = Path(str(spec)).expanduser()
    return path.is_dir() and (path / ADAPTER_CONFIG).is_file()


def read_adapter(spec: str | Path) -> Adapter:
    """Check an adapter folder: a readable config naming a LoRA-family adapter and its
    base, and adapter weights beside it. Raises a one-line ``ModelError`` otherwise."""
    folder = Path(str(spec)).expanduser().resolve()
    try:
        cfg = json.loads((folder / ADAPTER_CONFIG).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{folder}: {ADAPTER_CONFIG} is not readable JSON: {exc}") from exc
    if not isinstance(cfg, dict):
        raise ModelError(f"{folder}: {ADAPTER_CONFIG} is not a JSON object")
    base = cfg.get("base_model_name_or_path")
    if not isinstance(base, str) or not base.strip():
        raise ModelError(
            f"{folder}: {ADAPTER_CONFIG} names no base model (base_model_name_or_path); set it "
            "to the base checkpoint folder or the model alias"
        )
    peft_type = str(cfg.get("peft_type") or "")
    if not peft_type:
        raise ModelError(f"{folder}: {ADAPTER_CONFIG} has no peft_type: not a PEFT adapter")
    if not any((folder / name).is_file() for name in ADAPTER_WEIGHTS):
        raise ModelError(
            f"{folder}: no adapter weights ({' or '.join(ADAPTER_WEIGHTS)}) beside "
            f"{ADAPTER_CONFIG}: not a complete adapter"
        )
    has_tokenizer = any((folder / name).is_file() for name in TOKENIZER_FILES)
    return Adapter(str(folder), base.strip(), peft_type, cfg.get("task_type"), has_tokenizer)


def adapter_weight_names(adapter: Adapter) -> list[str]:
    """The names of the adapter's own tensors (headers only for safetensors)."""
    from training.rm_layouts import file_shapes

    folder = Path(adapter.path)
    file = next(folder / n for n in ADAPTER_WEIGHTS if (folder / n).is_file())
    return list(file_shapes(file))


def merge_adapter(model: Any, adapter: Adapter) -> Any:
    """Apply the adapter to ``model`` and merge it into the weights (a plain model back)."""
    from peft import PeftModel

    try:
        peft_model = PeftModel.from_pretrained(model, adapter.path, is_trainable=False)
        merged = peft_model.merge_and_unload()
    except Exception as exc:  # noqa: BLE001 - peft raises many kinds for a bad adapter
        log.debug("adapter %s failed to apply", adapter.path, exc_info=True)
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(
            f"{adapter.path}: the adapter does not apply to its base {adapter.base_spec}: "
            f"{reason[:300]}"
        ) from exc
    return merged
