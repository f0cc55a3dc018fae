"""Fingerprints of what a run measured: the model's files and the data items.

A run is keyed by these, not by a folder path or a dataset id: retraining into the same
``--output`` folder changes the weights and so the fingerprint (a new run, a new
checkpoint version), and adding pairs to a dataset changes the data fingerprint.

The model fingerprint is cheap at any size: for each weights file its name, size, the
safetensors header (every tensor's name, dtype, shape and offsets) and three 64 KiB
samples of its bytes (start, middle, end); small files (config, tokenizer, chat
template) are hashed whole. Two checkpoints that differ only in bytes outside the
samples would collide; a retrained model changes every tensor, so its samples differ.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Iterable
from pathlib import Path

SAMPLE = 64 * 1024
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".gguf")
SMALL_FILE = 4 * 1024 * 1024  # hashed whole below this size


def _safetensors_header(fh) -> bytes:  # noqa: ANN001 - a binary file object
    head = fh.read(8)
    if len(head) < 8:
        return head
    (size,) = struct.unpack("<Q", head)
    return fh.read(min(size, 100 * 1024 * 1024))


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    size = path.stat().st_size
    digest.update(f"{path.name}|{size}".encode())
    with path.open("rb") as fh:
        if size <= SMALL_FILE:
            digest.update(fh.read())
            return digest.hexdigest()
        if path.suffix == ".safetensors":
            digest.update(_safetensors_header(fh))
        for offset in (0, max(0, size // 2 - SAMPLE // 2), max(0, size - SAMPLE)):
            fh.seek(offset)
            digest.update(fh.read(SAMPLE))
    return digest.hexdigest()


def _adapter_base(folder: Path) -> str | None:
    """The base model a PEFT adapter folder names, located as ``--model`` would locate it
    (a folder relative to the adapter, a local path, the embedded alias's cache folder),
    else the name as written (a hub id); None when the folder is not an adapter."""
    try:
        cfg = json.loads((folder / "adapter_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    base = cfg.get("base_model_name_or_path") if isinstance(cfg, dict) else None
    if not isinstance(base, str) or not base.strip():
        return None
    base = base.strip()
    from preflens.config import EMBEDDED_MODEL_ALIAS
    from preflens.model_cache import embedded_model_path

    if base == EMBEDDED_MODEL_ALIAS:
        return str(embedded_model_path())
    local = Path(base).expanduser()
    if not local.is_absolute() and (folder / local).exists():
        return str(folder / local)
    return str(local) if local.exists() else base


def model_fingerprint(path_or_id: str, _depth: int = 0) -> str:
    """A hash of a checkpoint folder's weights, config and tokenizer files; for a hub id
    (nothing local to read) the id itself, marked as such. A PEFT adapter folder also
    hashes its base model's fingerprint: the same adapter over changed base weights is a
    different model (its own files only name the base)."""
    path = Path(path_or_id)
    if not path.is_dir():
        return "hub:" + hashlib.sha256(str(path_or_id).encode()).hexdigest()[:60]
    digest = hashlib.sha256()
    base = _adapter_base(path) if _depth < 4 else None  # bounded: adapters of adapters
    if base is not None:  # a .gguf file base is hashed as a file
        base_fp = _file_digest(Path(base)) if Path(base).is_file() else None
        digest.update(f"base:{base_fp or model_fingerprint(base, _depth + 1)}".encode())
    for file in sorted(p for p in path.iterdir() if p.is_file()):
        if file.name in ("run.json", "preflens-model.json") or file.name.startswith("."):
            continue  # bookkeeping, not the model
        if file.suffix in WEIGHT_SUFFIXES or file.suffix in (".json", ".jinja", ".model", ".txt"):
            digest.update(_file_digest(file).encode())
    return digest.hexdigest()


def data_fingerprint(content_hashes: Iterable[str]) -> str:
    """A hash of the set of items a run measures (pairs by content hash, any order)."""
    digest = hashlib.sha256()
    for h in sorted(content_hashes):
        digest.update(h.encode())
    return digest.hexdigest()


def file_fingerprint(path: str | Path) -> str:
    """A hash of a whole file's bytes: the identity of an imported results file (the same
    file imported twice is one run; one changed byte is another)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
