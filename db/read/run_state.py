"""Whether a run's numbers are final: its status as shown (``interrupted`` when its owner
is gone), ``partial`` for anything but a finished run, and the one-line label every
surface puts first (the terminal, the report's banner, the JSON ``state``)."""

from __future__ import annotations

from typing import Any

from db.ownership import shown_status
from db.schema import Run

ERROR_CHARS = 200  # of a failed run's error, in the label


def run_state(run: Run, rows: int | None) -> dict[str, Any]:
    """``{"status", "partial", "rows", "total", "progress", "error", "label"}`` of a run
    whose ``rows`` (pairs or prompts) are being shown; ``label`` is None when done."""
    status = shown_status(run)
    error = (run.error or "").strip().splitlines()
    state = {
        "status": status,
        "partial": status != "done",
        "rows": rows,
        "total": run.total,
        "progress": run.progress,
        "error": error[0][:ERROR_CHARS] if error else None,
    }
    return state | {"label": state_label(run.id, state)}


def state_label(run_id: int, state: dict[str, Any]) -> str | None:
    """ "run 7 failed at 42%: ..." / "run 7 is still running: partial, 24 rows so far"."""
    status, rows = state["status"], state["rows"]
    so_far = f"{rows} rows so far" if rows is not None else "rows so far unknown"
    if state["total"]:
        so_far += f" of {state['total']}"
    if status == "done":
        return None
    if status == "failed":
        reason = state["error"] or "no error was recorded"
        return f"run {run_id} failed at {state['progress']:.0%}: {reason} (partial, {so_far})"
    if status == "interrupted":
        return f"run {run_id} was interrupted (rerun its command to resume): partial, {so_far}"
    return f"run {run_id} is still {status}: partial, {so_far}"
