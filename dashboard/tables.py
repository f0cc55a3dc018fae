"""Tables that fit a narrow main column: at 1024 px with the sidebar open the page's main
column is about 560 px, and a data grid wider than that hides its right-hand columns
behind a sideways scroll. A table shows its primary columns by default; a toggle above
it shows every column. The data handed to the grid is the whole frame either way (only
the column order changes), so a download or a test reads every column."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import streamlit as st


def fitted_table(frame: pd.DataFrame, key: str, primary: Sequence[str], **kwargs: Any) -> Any:
    """``st.dataframe(frame, key=key, hide_index=True, **kwargs)`` showing only the
    ``primary`` columns (those present, in that order) unless the reader turns on
    "all N columns"; with nothing left out, no toggle is drawn."""
    shown = [c for c in primary if c in frame.columns]
    hidden = [c for c in frame.columns if c not in shown]
    order = None
    if hidden:
        every = st.toggle(
            f"All {len(frame.columns)} columns",
            key=f"{key}_all",
            help="also " + ", ".join(map(str, hidden)),
        )
        order = None if every else shown
    return st.dataframe(frame, key=key, hide_index=True, column_order=order, **kwargs)
