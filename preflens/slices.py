"""Slices of a score run with honest significance, in pure numpy/scipy.

A slice (a category, a split, a cluster of the run's map, a bin of length difference) has
an accuracy with its Wilson 95% interval and a difference from the run's overall
accuracy. Its test compares the slice with the *rest* of the run's pairs (two-sided
Fisher exact test on the 2x2 table right/wrong x in/out of the slice), because the overall
accuracy contains the slice itself. For two runs on the same pairs, each slice gets the
exact McNemar test of its discordant pairs. The p-values of one family of slices are then
corrected for the number of slices tested: Holm (family-wise error) and Benjamini-Hochberg
(false discovery rate). A slice "survives" a correction when its corrected p < alpha.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from preflens.uncertainty import mcnemar_exact, proportion

ALPHA = 0.05
# Length difference = response characters chosen - rejected; bins are half-open
# [low, high) with the outer ones unbounded.
LENGTH_EDGES = (-100, -20, 20, 100)


def holm(p: Any) -> np.ndarray:
    """Holm step-down adjusted p-values (same order as ``p``): sorted ascending, the i-th
    (0-based) of m is multiplied by (m - i), made non-decreasing, capped at 1."""
    p = np.asarray(p, dtype=np.float64)
    m = len(p)
    if m == 0:
        return p
    order = np.argsort(p, kind="stable")
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.maximum.accumulate(scaled)
    return out


def benjamini_hochberg(p: Any) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (same order as ``p``): sorted ascending, the
    i-th (1-based) of m becomes p * m / i, made non-increasing from the largest down,
    capped at 1."""
    p = np.asarray(p, dtype=np.float64)
    m = len(p)
    if m == 0:
        return p
    order = np.argsort(p, kind="stable")
    scaled = p[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum(1.0, np.minimum.accumulate(scaled[::-1])[::-1])
    out = np.empty(m)
    out[order] = adjusted
    return out


def length_bin(diff: Any) -> np.ndarray:
    """The length-difference bin label of each pair (characters chosen - rejected);
    unknown lengths (NaN) get ``"unknown"``."""
    d = np.asarray(diff, dtype=np.float64)
    labels = [
        f"chosen shorter by > {-LENGTH_EDGES[0]} chars",
        f"chosen shorter by {-LENGTH_EDGES[1]}-{-LENGTH_EDGES[0]} chars",
        f"within {LENGTH_EDGES[2]} chars",
        f"chosen longer by {LENGTH_EDGES[2]}-{LENGTH_EDGES[3]} chars",
        f"chosen longer by > {LENGTH_EDGES[3]} chars",
    ]
    idx = np.searchsorted(np.asarray(LENGTH_EDGES, dtype=np.float64), d, side="right")
    # A difference of exactly -20 belongs to [-20, 20); searchsorted(right) puts it there.
    out = np.array(labels, dtype=object)[np.clip(idx, 0, len(labels) - 1)]
    out[np.isnan(d)] = "unknown"
    return out


def _fisher(k_in: int, n_in: int, k_out: int, n_out: int) -> float | None:
    if n_in == 0 or n_out == 0:
        return None
    table = [[k_in, n_in - k_in], [k_out, n_out - k_out]]
    return float(stats.fisher_exact(table).pvalue)


def _correct(rows: list[dict[str, Any]], alpha: float) -> None:
    """Fill ``p_holm``/``p_bh`` and the survival marks over the rows that have a p."""
    tested = [r for r in rows if r["p"] is not None]
    p = np.array([r["p"] for r in tested])
    for r, h, b in zip(tested, holm(p), benjamini_hochberg(p), strict=True):
        r["p_holm"], r["p_bh"] = float(h), float(b)
        r["survives_holm"], r["survives_bh"] = bool(h < alpha), bool(b < alpha)
    for r in rows:
        if r["p"] is None:
            r.update(p_holm=None, p_bh=None, survives_holm=False, survives_bh=False)


def slice_table(correct: Any, groups: dict[str, Any], alpha: float = ALPHA) -> dict[str, Any]:
    """Per slice of every grouping in ``groups`` (name -> one label per pair): n,
    accuracy (Wilson 95%), the difference from the overall accuracy, the Fisher exact
    p-value of slice vs rest, and Holm and BH corrected p-values over all slices of all
    groupings together (one family). Slices are listed worst accuracy first."""
    ok = np.asarray(correct, dtype=bool)
    n_all, k_all = len(ok), int(ok.sum())
    overall = k_all / n_all if n_all else None
    rows: list[dict[str, Any]] = []
    for by, labels in groups.items():
        lab = np.asarray(labels, dtype=object)
        for value in sorted({str(v) for v in lab}):
            mask = lab.astype(str) == value
            n, k = int(mask.sum()), int(ok[mask].sum())
            acc = proportion(k, n)
            rows.append(
                {
                    "by": by,
                    "slice": value,
                    "n": n,
                    "accuracy": acc,
                    "difference": None if overall is None else acc["value"] - overall,
                    "p": _fisher(k, n, k_all - k, n_all - n),
                }
            )
    _correct(rows, alpha)
    rows.sort(key=lambda r: (r["accuracy"]["value"], r["by"], r["slice"]))
    return {
        "n": n_all,
        "overall": proportion(k_all, n_all),
        "alpha": alpha,
        "tests": len([r for r in rows if r["p"] is not None]),
        "slices": rows,
        "conventions": {
            "accuracy": "share of pairs with gap > 0 (a tie counts as wrong), Wilson 95%",
            "difference": "slice accuracy - overall accuracy of the run",
            "p": "two-sided Fisher exact test, slice vs the rest of the run's pairs",
            "p_holm": "Holm-adjusted over every slice tested (family-wise error)",
            "p_bh": "Benjamini-Hochberg-adjusted over every slice tested (false discovery)",
            "survives": f"adjusted p < {alpha}",
        },
    }


def paired_slice_table(
    correct_a: Any, correct_b: Any, groups: dict[str, Any], alpha: float = ALPHA
) -> dict[str, Any]:
    """Two runs on the same pairs, per slice: both accuracies (Wilson 95%), the
    difference B - A, the flips each way and the exact McNemar p-value, with Holm and BH
    corrections over all slices. Slices with the largest drop (B - A) first."""
    a = np.asarray(correct_a, dtype=bool)
    b = np.asarray(correct_b, dtype=bool)
    rows: list[dict[str, Any]] = []
    for by, labels in groups.items():
        lab = np.asarray(labels, dtype=object).astype(str)
        for value in sorted(set(lab)):
            mask = lab == value
            n = int(mask.sum())
            w2r = int((~a[mask] & b[mask]).sum())
            r2w = int((a[mask] & ~b[mask]).sum())
            acc_a, acc_b = proportion(int(a[mask].sum()), n), proportion(int(b[mask].sum()), n)
            rows.append(
                {
                    "by": by,
                    "slice": value,
                    "n": n,
                    "accuracy_a": acc_a,
                    "accuracy_b": acc_b,
                    "difference": acc_b["value"] - acc_a["value"],
                    "wrong_to_right": w2r,
                    "right_to_wrong": r2w,
                    "p": mcnemar_exact(w2r, r2w),
                }
            )
    _correct(rows, alpha)
    rows.sort(key=lambda r: (r["difference"], r["by"], r["slice"]))
    return {
        "n": len(a),
        "alpha": alpha,
        "tests": len([r for r in rows if r["p"] is not None]),
        "slices": rows,
        "conventions": {
            "difference": "accuracy_b - accuracy_a on the slice's pairs (gap 0 is wrong)",
            "p": "exact McNemar (sign test on the slice's discordant pairs); none without any",
            "p_holm": "Holm-adjusted over every slice tested",
            "p_bh": "Benjamini-Hochberg-adjusted over every slice tested",
            "survives": f"adjusted p < {alpha}",
        },
    }
