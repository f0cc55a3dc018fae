"""The Cases page's table view (pure: a DataFrame and its column settings): one row per
case with both sides, their scores, token counts and cut flags, the gap and the
category, so a page of cases can be scanned and sorted at a glance."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import streamlit as st

TEXT_WIDTH = "medium"


def cases_table(kind: str, items: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """``search_cases`` items as table rows. A score run: pair, gap, chosen and rejected
    (previews, scores, tokens as scored, truncated), category, split. A comparison: the
    same with answers A and B (tokens generated, cut at the limit)."""
    rows = []
    for item in items:
        row: dict[str, Any] = {"pair": item["pair_id"], "gap": item["gap"]}
        if kind == "score":
            for side in ("chosen", "rejected"):
                row[side] = item[side]
                row[f"score {side}"] = item[f"score_{side}"]
                row[f"tokens {side}"] = item[f"tokens_{side}"]
            row["truncated"] = ", ".join(
                side for side in ("chosen", "rejected") if item[f"truncated_{side}"]
            )
        else:
            for side in ("a", "b"):
                row[f"answer {side.upper()}"] = item[f"text_{side}"]
                row[f"score {side.upper()}"] = item[f"score_{side}"]
                row[f"tokens {side.upper()}"] = item[f"tokens_{side}"]
            row["cut at limit"] = ", ".join(
                s.upper() for s in ("a", "b") if item[f"finish_{s}"] == "length"
            )
        row["category"] = item["category"] or "(none)"
        row["split"] = item["split"]
        row["prompt"] = item["prompt"]
        rows.append(row)
    return pd.DataFrame(rows)


def cases_table_columns(kind: str) -> dict[str, Any]:
    """Column settings: numbers formatted, long texts in medium-width columns."""
    number = st.column_config.NumberColumn
    out: dict[str, Any] = {
        "pair": number("pair", format="%d"),
        "gap": number("gap", format="%+.4f", help="chosen - rejected (A - B); <= 0 is wrong"),
        "prompt": st.column_config.TextColumn("prompt", width=TEXT_WIDTH),
    }
    for side in ("chosen", "rejected") if kind == "score" else ("A", "B"):
        out[f"score {side}"] = number(f"score {side}", format="%.4f")
        text = side if kind == "score" else f"answer {side}"
        out[text] = st.column_config.TextColumn(text, width=TEXT_WIDTH)
    if kind == "score":
        out["tokens chosen"] = number("tokens chosen", help="conversation tokens, as scored")
        out["tokens rejected"] = number("tokens rejected", help="conversation tokens, as scored")
    return out
