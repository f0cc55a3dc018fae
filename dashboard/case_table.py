"""The Cases page's table view (pure: a DataFrame and its column settings): one row per
case with both sides, their scores, token counts and cut flags, the gap and the
category, so a page of cases can be scanned and sorted at a glance. Short headers and
fixed widths keep every column on the page (C / R: chosen / rejected; A / B: policies)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import streamlit as st

TEXT_WIDTH = 150  # pixels per text column
# Shown by default (they fit a ~560 px column); the scores, token counts and cut flags of
# both sides come with the table's "all columns" toggle.
PRIMARY = ("pair", "gap", "category", "chosen", "rejected", "answer A", "answer B")
SMALL = "small"


def cases_table(kind: str, items: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """``search_cases`` items as table rows. A score run: pair, gap, scores and tokens
    (as scored) of chosen (C) and rejected (R), which were truncated, category, both
    texts (previews). A comparison: the same for answers A and B (generated tokens,
    which hit the token limit)."""
    rows = []
    score = kind == "score"
    for item in items:
        sides = (("C", "chosen"), ("R", "rejected")) if score else (("A", "a"), ("B", "b"))
        row: dict[str, Any] = {"pair": item["pair_id"], "gap": item["gap"]}
        if "signals" in item:  # sorted by suspicion
            row |= {"suspicion": item["suspicion"], "signals": item["signals"]}
        for short, side in sides:
            row[f"score {short}"] = item[f"score_{side}"]
        for short, side in sides:
            row[f"tokens {short}"] = item[f"tokens_{side}"]
        if score:
            row["cut"] = " ".join(s for s, side in sides if item[f"truncated_{side}"])
        else:
            row["cut"] = " ".join(s for s, side in sides if item[f"finish_{side}"] == "length")
        row["category"] = item["category"] or "(none)"
        for short, side in sides:
            row["chosen" if short == "C" else "rejected" if short == "R" else f"answer {short}"] = (
                item[side] if score else item[f"text_{side}"]
            )
        rows.append(row)
    return pd.DataFrame(rows)


def suspicion_text(item: dict[str, Any]) -> str:
    """`` · suspicion 0.734 (3 signals)`` for an item of a page sorted by suspicion, else
    nothing (markdown)."""
    if "signals" not in item:
        return ""
    if item["suspicion"] is None:
        return " · suspicion: no signal run scored it"
    signals = item["signals"]
    return f" · suspicion **{item['suspicion']:.3f}** ({signals} signal{'s' * (signals != 1)})"


def cases_table_columns(kind: str) -> dict[str, Any]:
    """Column settings: short numeric columns, the texts at a fixed width."""
    number = st.column_config.NumberColumn
    sides = ("C", "R") if kind == "score" else ("A", "B")
    cut_help = (
        "which response was truncated to the scoring max length"
        if kind == "score"
        else "which answer hit max_new_tokens"
    )
    out: dict[str, Any] = {
        "pair": number("pair", format="%d", width=SMALL),
        "gap": number("gap", format="%+.3f", width=SMALL, help="score difference; <= 0: wrong"),
        "cut": st.column_config.TextColumn("cut", width=SMALL, help=cut_help),
        "suspicion": number(
            "suspicion",
            format="%.3f",
            width=SMALL,
            help="mean P(labelled-rejected is better) over the dataset's signal runs",
        ),
        "signals": number("signals", format="%d", width=SMALL, help="runs that scored the pair"),
        "category": st.column_config.TextColumn("category", width=SMALL),
    }
    tokens = "conversation tokens, as scored" if kind == "score" else "generated tokens"
    for side in sides:
        out[f"score {side}"] = number(f"score {side}", format="%.3f", width=SMALL)
        out[f"tokens {side}"] = number(f"tokens {side}", width=SMALL, help=tokens)
    texts = ("chosen", "rejected") if kind == "score" else ("answer A", "answer B")
    for text in texts:
        out[text] = st.column_config.TextColumn(text, width=TEXT_WIDTH)
    return out
