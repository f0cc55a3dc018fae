"""How a run's reward model was read, as one short label for every surface (the ``runs``
table, the API's run JSON and the dashboard's run labels): ``untrained head`` when its
scores came from a seeded head, the weights' layout and the normalisation applied."""

from __future__ import annotations

from typing import Any

# Runs whose scores come from a reward model.
RM_RUN_KINDS = ("score", "score_generations", "probe")
FORMULAS = {
    "affine": "(r - {mean:.4g}) / {std:.4g}",
    "scale": "r / {std:.4g}",
    "translate": "r - {mean:.4g}",
}


def rm_record(config: dict[str, Any] | None) -> dict[str, Any] | None:
    """The ``rm_layout`` record a run's config keeps (None for older runs and other kinds)."""
    record = (config or {}).get("rm_layout")
    return record if isinstance(record, dict) else None


def head_untrained(kind: str, config: dict[str, Any] | None, checkpoint_kind: str | None):
    """True when the run scored with a seeded, untrained head; None when not applicable
    or unknown. Older runs without a record fall back to the checkpoint's kind."""
    record = rm_record(config)
    if record is not None and record.get("head") in ("trained", "untrained"):
        return record["head"] == "untrained"
    if kind in RM_RUN_KINDS and checkpoint_kind is not None:
        return checkpoint_kind == "base"
    return None


def normalization_text(record: dict[str, Any]) -> str:
    """``normalized: (r - 0.37) / 2.5`` or ``not normalized`` (empty when no normaliser)."""
    norm = record.get("normalization")
    if not isinstance(norm, dict):
        return ""
    if not record.get("normalized"):
        return "not normalized"
    formula = FORMULAS.get(norm.get("function"), "{function}")
    values = {"mean": norm.get("mean") or 0.0, "std": norm.get("std") or 1.0, **norm}
    return "normalized: " + formula.format(**values)


def rm_label(kind: str, config: dict[str, Any] | None, checkpoint_kind: str | None) -> str:
    """``untrained head``, ``openrlhf layout, normalized: (r - 0.37) / 2.5``,
    ``LoRA adapter``…, joined by ``; `` (empty for a TRL head and for runs without a
    reward model; the run's JSON keeps the full record either way)."""
    parts = []
    if head_untrained(kind, config, checkpoint_kind):
        parts.append("untrained head")
    record = rm_record(config)
    # TRL's own layout is the default and has no normaliser: nothing to point out.
    if record is not None and record.get("layout") not in (None, "causal-lm", "trl"):
        text = f"{record['layout']} layout"
        norm = normalization_text(record)
        parts.append(f"{text}, {norm}" if norm else text)
    if record is not None and record.get("adapter"):
        parts.append("LoRA adapter")
    return "; ".join(parts)
