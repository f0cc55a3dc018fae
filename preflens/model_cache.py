"""Where converted checkpoints live in the cache (no torch import, so checks are instant)."""

from __future__ import annotations

from pathlib import Path

from preflens.config import EMBEDDED_MODEL_ALIAS, get_settings

MARKER = "preflens-model.json"


def is_converted(path: Path) -> bool:
    """True when ``path`` holds a finished conversion (written last, after the weights)."""
    return (path / MARKER).is_file() and (path / "config.json").is_file()


def embedded_model_path(cache: Path | None = None) -> Path:
    return (cache or get_settings().resolved_model_cache).resolve() / EMBEDDED_MODEL_ALIAS
