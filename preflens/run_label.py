"""The one run label of PrefLens: ``#3 score · rm-demo · demo/test · max 256 tok``, used by
every dashboard page (select boxes, legends, tables) and the command line. The max length
is the run's own: conversation tokens as scored (score, training and probe runs), or
generated tokens at most (generation runs)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def length_text(kind: str, config: Mapping[str, Any] | None) -> str:
    """``max 256 tok`` (conversation tokens as scored) or ``max 64 new tok`` (generated
    tokens); empty when the run's config names no length."""
    config = config or {}
    if kind == "generate" and config.get("max_new_tokens") is not None:
        return f"max {config['max_new_tokens']} new tok"
    if config.get("max_length") is not None:
        return f"max {config['max_length']} tok"
    return ""


def run_label(run: Mapping[str, Any]) -> str:
    """A run dict (``db.read.run_dict``) as one line: id, kind, model, dataset/split, the
    run's max length, then how its reward model was read when that matters (``rm_label``:
    ``untrained head``, the layout and its normalisation)."""
    where = f"{run.get('dataset') or '-'}/{run.get('split') or 'all'}"
    parts = [f"#{run['id']} {run['kind']}", str(run.get("model") or "-"), where]
    parts += [p for p in (length_text(run["kind"], run.get("config")), run.get("rm_label")) if p]
    return " · ".join(parts)
