"""The slices table of the Diagnostics page: per category, split, length-difference bin
and map cluster, accuracy (Wilson 95%), the test per slice and Holm/Benjamini-Hochberg
corrected p-values, with the slices that survive correction marked. JSON twin:
``GET /v1/runs/{id}/slices``."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import fix_data
from preflens.headline import fmt_p


def _iv(x: dict[str, Any] | None) -> str:
    if not x or x.get("value") is None:
        return "n/a"
    if x.get("ci_low") is None:
        return f"{x['value']:.3f}"
    return f"{x['value']:.3f} [{x['ci_low']:.3f}, {x['ci_high']:.3f}]"


def slices_frame(d: dict[str, Any]) -> pd.DataFrame:
    """One row per slice, worst first, with the survival marks as text."""
    paired = "run_a" in d
    rows = []
    for r in d["slices"]:
        row: dict[str, Any] = {"by": r["by"], "slice": r["slice"], "n": r["n"]}
        if paired:
            row["accuracy a [95%]"] = _iv(r["accuracy_a"])
            row["accuracy b [95%]"] = _iv(r["accuracy_b"])
            row["b - a"] = r["difference"]
        else:
            row["accuracy [95%]"] = _iv(r["accuracy"])
            row["vs overall"] = r["difference"]
        row |= {
            "p": fmt_p(r["p"]),
            "p Holm": fmt_p(r["p_holm"]),
            "p BH": fmt_p(r["p_bh"]),
            "survives": ", ".join(
                name for name, ok in (("Holm", r["survives_holm"]), ("BH", r["survives_bh"])) if ok
            )
            or "-",
        }
        rows.append(row)
    return pd.DataFrame(rows)


def slices_section(url: str, run: dict[str, Any], stamp: str, against: int | None) -> None:
    """The run's slices; with a comparison run picked, a toggle shows the paired table."""
    paired = against is not None and st.toggle(
        f"Per slice against run {against} (paired, McNemar)", key="diag_slices_paired"
    )
    d = fix_data.slices(url, run["id"], stamp, against if paired else None)
    if not d["slices"]:
        st.text("No grouping splits this run into more than one slice.")
        return
    test = "exact McNemar per slice" if paired else "Fisher exact, slice vs the rest"
    st.caption(
        f"{d['tests']} slices tested ({test}); p-values corrected over all of them: Holm "
        f"(family-wise) and Benjamini-Hochberg (false discovery). 'survives' = adjusted "
        f"p < {d['alpha']}. Accuracy: gap > 0, a tie counts as wrong."
    )
    st.dataframe(slices_frame(d), hide_index=True, key="diag_slices")
