"""The headline component: one number with its 95% interval, n, the interval's method and
verdict badges computed from the intervals. Pure (no database, no Streamlit); the
renderers for the terminal, the dashboard and the HTML report all start from
``headline`` and ``headline_text``.

Verdicts (a headline may carry several):

- ``below chance``: the whole interval lies below chance (0.5 for an accuracy, a win rate
  or an AUC);
- ``not different from chance``: the interval contains chance;
- ``below the length baseline``: the interval lies below the better of the two length
  baselines ("the longer response wins", "the shorter response wins") on the same pairs;
- ``untrained head``: the reward model's score head was initialised from a seed, so its
  scores are noise whatever the numbers say;
- ``most answers cut``: more than half of a generation run's answers stopped at the token
  limit, so the RM compared unfinished answers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

BELOW_CHANCE = "below chance"
NOT_DIFFERENT = "not different from chance"
BELOW_LENGTH = "below the length baseline"
UNTRAINED = "untrained head"
MOST_CUT = "most answers cut"
VERDICTS = (BELOW_CHANCE, NOT_DIFFERENT, BELOW_LENGTH, UNTRAINED, MOST_CUT)
CHANCE = 0.5
METHOD_NAMES = {
    "wilson": "Wilson 95%",
    "wilson (ties count half)": "Wilson 95%, ties half",
    "wilson (equal lengths count half)": "Wilson 95%, equal lengths half",
    "normal (large n)": "normal 95%",
}


def _known(x: Any) -> bool:
    return x is not None


def headline(
    label: str,
    iv: dict[str, Any] | None,
    *,
    chance: float | None = CHANCE,
    baseline: dict[str, Any] | None = None,
    untrained: bool | None = False,
    cut: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """A headline from an interval dict (``preflens.uncertainty.interval``):
    ``{label, value, ci_low, ci_high, n, method, verdicts}``. ``chance``: the value a
    coin flip scores (None: no chance verdicts, e.g. a mean gap); ``baseline``: the better
    length baseline's interval on the same pairs; ``untrained``: the RM's head was
    initialised from a seed; ``cut``: (answers at the token limit, answers)."""
    iv = iv or {}
    value, lo, hi = iv.get("value"), iv.get("ci_low"), iv.get("ci_high")
    verdicts: list[str] = []
    if untrained:
        verdicts.append(UNTRAINED)
    if cut is not None and cut[1] > 0 and cut[0] / cut[1] > 0.5:
        verdicts.append(MOST_CUT)
    if chance is not None and _known(lo) and _known(hi):
        if hi < chance:
            verdicts.append(BELOW_CHANCE)
        elif lo <= chance:
            verdicts.append(NOT_DIFFERENT)
    if baseline and _known(hi) and _known(baseline.get("value")) and hi < baseline["value"]:
        verdicts.append(BELOW_LENGTH)
    out = {
        "label": label,
        "value": value,
        "ci_low": lo,
        "ci_high": hi,
        "n": int(iv.get("n") or 0),
        "method": iv.get("method", ""),
        "verdicts": verdicts,
    }
    if value is None and iv.get("note"):
        out["note"] = iv["note"]  # why there is no estimate
    if baseline:
        out["baseline"] = baseline.get("value")
    if cut is not None:
        out["cut"] = {"at_limit": int(cut[0]), "of": int(cut[1])}
    return out


def better_baseline(length: dict[str, Any] | None) -> dict[str, Any] | None:
    """The better of the two length baselines of a length-control result (the one a
    model ignoring content but reading length could reach)."""
    if not length:
        return None
    pick = [length.get("longer_wins_baseline"), length.get("shorter_wins_baseline")]
    known = [b for b in pick if b and b.get("value") is not None]
    return max(known, key=lambda b: b["value"]) if known else None


def fmt_value(x: float | None, pct: bool = False, digits: int = 3) -> str:
    if x is None:
        return "n/a"
    return f"{100 * x:.1f}%" if pct else f"{x:.{digits}f}"


def interval_text(h: dict[str, Any], pct: bool = False, digits: int = 3) -> str:
    """``[0.367, 0.505]`` (or ``[36.7%, 50.5%]``); empty when the interval is unknown."""
    if h.get("ci_low") is None or h.get("ci_high") is None:
        return ""
    return f"[{fmt_value(h['ci_low'], pct, digits)}, {fmt_value(h['ci_high'], pct, digits)}]"


def method_text(h: dict[str, Any]) -> str:
    method = h.get("method") or ""
    return METHOD_NAMES.get(method, f"{method} 95%" if method else "95%")


def badges_text(verdicts: Iterable[str]) -> str:
    """``[below chance] [untrained head]`` (empty when there is none)."""
    return " ".join(f"[{v}]" for v in verdicts)


def headline_text(h: dict[str, Any], pct: bool = False, digits: int = 3) -> str:
    """One line: ``accuracy 0.435 [0.367, 0.505] n=200 (Wilson 95%) [below chance]``."""
    parts = [h["label"], fmt_value(h["value"], pct, digits)]
    ci = interval_text(h, pct, digits)
    if ci:
        parts.append(ci)
    parts.append(f"n={h['n']}")
    if ci:
        parts.append(f"({method_text(h)})")
    badges = badges_text(h.get("verdicts") or [])
    if badges:
        parts.append(badges)
    return " ".join(parts)


def fmt_p(p: float | None) -> str:
    """A p-value: three decimals, scientific notation below 1e-3 (``9.1e-13``), never
    ``0.000``."""
    if p is None:
        return "n/a"
    if p < 1e-3:
        return f"{p:.1e}" if p > 0 else "< 1e-300"
    return f"{p:.3f}"


def headline_caption(h: dict[str, Any], pct: bool = False, digits: int = 3) -> str:
    """The line under a headline tile: ``95% [0.367, 0.505] · n=200 · Wilson 95%``."""
    ci = interval_text(h, pct, digits)
    parts = [f"95% {ci}" if ci else h.get("note") or "no interval", f"n={h['n']}"]
    if ci:
        parts.append(method_text(h))
    cut = h.get("cut")
    if cut:
        parts.append(f"{cut['at_limit']} of {cut['of']} answers at the token limit")
    return " · ".join(parts)
