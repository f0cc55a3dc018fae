"""What ``preflens import-generations``, ``import-scores`` and ``export-dataset`` print, as
lines of text (``preflens.cli.output.print_lines`` prints them)."""

from __future__ import annotations

from typing import Any

from preflens.uncertainty import proportion

SHOWN_REFUSALS = 50  # refused rows listed one by one; the rest are counted


def import_lines(report: Any) -> list[str]:
    """A ``training.imports.common.ImportReport``: the layout (and whether it was
    detected), rows read / stored / refused, every refused row (up to 50) with its reason,
    and the run."""
    how = "detected" if report.detected else "--format"
    lines = [f"{report.source}: layout {report.format} ({how})"]
    lines.append(f"  rows read:     {report.rows}")
    stored = f"  rows stored:   {report.stored}"
    if report.per_policy:
        stored += "  (" + ", ".join(f"{k}: {v}" for k, v in report.per_policy.items()) + ")"
    if report.items != report.stored:
        stored += f"  ({report.items} answers scored: a text several policies gave is each one's)"
    lines.append(stored)
    if report.added_prompts:
        lines.append(f"  prompts added to the prompt set: {report.added_prompts}")
    lines.append(f"  rows refused:  {len(report.refused)}")
    for row, reason in report.refused[:SHOWN_REFUSALS]:
        lines.append(f"    row {row}: {reason}")
    if len(report.refused) > SHOWN_REFUSALS:
        lines.append(f"    ... and {len(report.refused) - SHOWN_REFUSALS} more refused rows")
    if report.run_id is None:
        lines.append("  no row could be stored, so no run was made")
        return lines
    state = "the same file was imported before; reused" if report.reused else "imported"
    lines.append(f"{report.run_kind} run {report.run_id} ({state})")
    s = report.summary
    if report.run_kind == "score" and s.get("pairs"):
        acc = proportion(round(s["accuracy"] * s["pairs"]), s["pairs"])
        lines.append(
            f"  pairs {s['pairs']}  accuracy {s['accuracy']:.3f} (chosen scored above rejected; "
            f"a tie counts as wrong) 95% CI [{acc['ci_low']:.3f}, {acc['ci_high']:.3f}]  "
            f"reward mean {s['reward_mean']:.3f} (std of scores {s['reward_std']:.3f})"
        )
    return lines


def export_lines(result: Any) -> list[str]:
    """A ``training.imports.export_dataset.ExportedDataset``."""
    where = f"split {result.split!r}" if result.split else "every split"
    lines = [
        f"wrote {result.pairs} pairs of dataset {result.dataset!r} ({where}) to {result.path} "
        f"(format {result.format}: TRL prompt/chosen/rejected messages)"
    ]
    if getattr(result, "drop_labels", ()):
        lines.append(f"  left out {result.dropped} pairs flagged {', '.join(result.drop_labels)}")
    if getattr(result, "flip_labels", ()):
        lines.append(
            f"  flipped {result.flipped} pairs flagged {', '.join(result.flip_labels)} "
            "(chosen and rejected swapped)"
        )
    return lines
