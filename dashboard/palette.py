"""The one palette of the dashboard and the HTML report (pure: no Altair, no Streamlit,
so ``preflens report`` uses it too).

Rules, so a colour means one thing on every chart of every page:
- chosen is always green and rejected always red; nothing else uses either;
- a run (a series named ``#<id> ...``) takes its colour from its id, so ``#3`` is the
  same colour whatever else its label says (``#3 (before)``, ``#3 train_rm rm-toy``);
- any other series (a policy) takes a colour from its name's hash;
- states (cut at the limit, error, done, tie, chance) are never a series colour: they use
  shapes or the neutral greys below.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

CHOSEN = "#1a9850"  # green
REJECTED = "#d73027"  # red
GAP = "#4a6fa5"  # the gap chosen - rejected of one run (slate blue)
# Neutral tones for states and reference lines (never a series).
NEUTRAL = "#555555"  # ties, chance and reference rules
NEUTRAL_LIGHT = "#bbbbbb"  # zero lines, "unchanged"
# Streamlit's accent (selected chips, progress bars, toggles): a neutral slate, so a
# finished progress bar or a picked run is never drawn in rejected's red.
ACCENT = "#4a5568"
# Quantities on the Diagnostics page and in the report: not runs, not policies.
LONGER = "#b8860b"  # the longer response / longer-wins baseline (dark goldenrod)
SHORTER = "#008080"  # the shorter response / shorter-wins baseline (teal)
AFTER_TEMPERATURE = "#7b3294"  # a calibration after temperature scaling (purple)

# Categories that are neither runs nor sides (e.g. a probe's agreement quadrants).
CATEGORIES = (NEUTRAL, LONGER, SHORTER, AFTER_TEMPERATURE)

FIXED = {
    "chosen": CHOSEN,
    "rejected": REJECTED,
    "gap": GAP,
    "tie": NEUTRAL,
    "longer": LONGER,
    "shorter": SHORTER,
}
# Runs and policies (no green, red, grey, goldenrod, teal or purple of the fixed ones).
SERIES = (
    "#1f77b4",  # blue
    "#ff7f0e",  # orange
    "#e377c2",  # pink
    "#8c564b",  # brown
    "#17becf",  # cyan
    "#bcbd22",  # olive
    "#393b79",  # navy
    "#6b6ecf",  # periwinkle
    "#f4a582",  # salmon
    "#000000",  # black
)
RUN_LABEL = re.compile(r"^#(\d+)\b")


def run_color(run_id: int) -> str:
    """The colour of run ``run_id`` on every chart."""
    return SERIES[(int(run_id) - 1) % len(SERIES)]


def name_color(name: str) -> str:
    """The colour a series name prefers (stable across charts, pages and processes)."""
    if name in FIXED:
        return FIXED[name]
    run = RUN_LABEL.match(name)
    if run:
        return run_color(int(run.group(1)))
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return SERIES[digest[0] % len(SERIES)]


def series_colors(names: Iterable[str]) -> dict[str, str]:
    """A colour per name: fixed names and runs their own colour; a policy its preferred
    colour unless a name before it (fixed and runs first, then sorted) took it, then the
    next free one. The same names get the same colours on every chart of a page."""
    taken: dict[str, str] = {}
    used: set[str] = set()

    def rank(n: str) -> tuple[bool, bool, str]:
        return (n not in FIXED, RUN_LABEL.match(n) is None, n)

    for name in sorted({str(n) for n in names}, key=rank):
        color = name_color(name)
        if name not in FIXED and not RUN_LABEL.match(name) and color in used:
            start = SERIES.index(color)
            free = [SERIES[(start + k) % len(SERIES)] for k in range(1, len(SERIES) + 1)]
            color = next((c for c in free if c not in used), color)
        taken[name] = color
        used.add(color)
    return taken


def run_id_of(label: str) -> int | None:
    """The run id a ``#<id> ...`` label names, else None."""
    run = RUN_LABEL.match(str(label))
    return int(run.group(1)) if run else None
