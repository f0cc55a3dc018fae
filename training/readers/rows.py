"""``SourceRow``: one raw row of a source, or the reason it could not be read."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from preflens.errors import RowError
from training.readers.fields import storable

RAW_KEEP = 10_000  # characters of a bad row kept for the report


@dataclass
class SourceRow:
    """A 1-based row number within its part of the source (for JSON Lines: the line
    number), the row as a dict or a ``RowError`` when the row itself cannot be read, the
    split the source names (a ``datasets`` split) and the raw text kept for reports."""

    number: int
    row: dict[str, Any] | RowError
    split: str | None = None
    raw: str | None = None

    @property
    def where(self) -> str:
        """ "row 7", or "test row 7" for a source with named splits."""
        return f"{self.split} row {self.number}" if self.split else f"row {self.number}"

    def raw_text(self) -> str:
        """The row as text, cut at ``RAW_KEEP`` characters, safe to store and print."""
        if self.raw is not None:
            return storable(self.raw[:RAW_KEEP])
        try:
            text = json.dumps(self.row, ensure_ascii=False, default=_shown)
        except (RecursionError, ValueError):  # nesting too deep to write back out
            text = "<row nested too deeply to show>"
        return storable(text[:RAW_KEEP])


def _shown(value: Any) -> str:
    digits = getattr(value, "digits", None)  # a BigNumber keeps its digits
    return digits if isinstance(digits, str) else str(value)
