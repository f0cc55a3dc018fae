"""Writing a benchmark's result: the machine it ran on, then its own fields."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any


def save_result(out: Path | None, **fields: Any) -> dict[str, Any]:
    """The result with the machine described first; written as JSON to ``out`` if given."""
    result = {
        "machine": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        # Other work on the machine while it ran (1, 5 and 15 minute load averages).
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        **fields,
    }
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2))
    return result
