"""Rows of ``preflens export`` for a checkpoint series and a best-of-N run, flattened from
the read functions' dicts (``db.read.series.series``, ``db.read.bon.bon_summary``) so
the file holds exactly the numbers the API, the dashboard and ``diagnose`` show.

A series: one row per step (accuracy with its Wilson 95% interval, AUC and gap mean with
bootstrap 95% intervals, ECE, pairs learned and forgotten since the previous step and
McNemar's p). A best-of-N run: one row per k (the proxy's best-of-k pick: expected proxy
and gold reward and generated tokens with bootstrap 95% bands over prompts, and the
analytic KL of best-of-k)."""

from __future__ import annotations

from typing import Any

SERIES_COLUMNS = (
    "step",
    "score_run",
    "pairs",
    "accuracy",
    "accuracy_ci_low",
    "accuracy_ci_high",
    "auc",
    "auc_ci_low",
    "auc_ci_high",
    "gap_mean",
    "gap_mean_ci_low",
    "gap_mean_ci_high",
    "ece",
    "learned",
    "forgotten",
    "mcnemar_p",
    "best",
)
BON_CURVES = ("proxy", "gold", "length")


def _iv(prefix: str, iv: dict[str, Any] | None) -> dict[str, Any]:
    iv = iv or {}
    return {
        prefix: iv.get("value"),
        f"{prefix}_ci_low": iv.get("ci_low"),
        f"{prefix}_ci_high": iv.get("ci_high"),
    }


def series_rows(s: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per step of ``db.read.series.series``'s result (``SERIES_COLUMNS``);
    ``learned``/``forgotten``/``mcnemar_p`` are empty at the first step, ``best`` marks
    the best step."""
    best = (s.get("best") or {}).get("step")
    rows = []
    for p in s["points"]:
        vs = p["vs_previous"] or {}
        rows.append(
            {
                "step": p["step"],
                "score_run": p["run_id"],
                "pairs": p["n"],
                **_iv("accuracy", p["accuracy"]),
                **_iv("auc", p["auc"]),
                **_iv("gap_mean", p["gap_mean"]),
                "ece": p["ece"],
                "learned": vs.get("learned"),
                "forgotten": vs.get("forgotten"),
                "mcnemar_p": vs.get("mcnemar_p"),
                "best": p["step"] == best,
            }
        )
    return rows


def bon_columns(b: dict[str, Any]) -> list[str]:
    """The columns of a best-of-N export: k, KL and each curve the run has with its band."""
    cols = ["k", "kl_nats", "prompts"]
    for name in BON_CURVES:
        if name in b["curves"]:
            cols += [name, f"{name}_ci_low", f"{name}_ci_high"]
    return cols


def bon_rows(b: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per k of ``db.read.bon.bon_summary``'s result (``bon_columns``)."""
    rows = []
    for j, k in enumerate(b["ks"]):
        row: dict[str, Any] = {"k": k, "kl_nats": b["kl"][j], "prompts": b["prompts"]}
        for name in BON_CURVES:
            if name in b["curves"]:
                row.update(_iv(name, b["curves"][name][j]))
        rows.append(row)
    return rows


def over_summary(session, run_id: int, b: int, seed: int):  # noqa: ANN001, ANN201
    """("series", ``db.read.series.series``) of a training or series run with more than
    one point, ("bon", ``db.read.bon.bon_summary``) of a bon run, or None for any other."""
    from db.lookup import run_record
    from db.read.series import SERIES_KINDS, series, series_points

    kind = run_record(session, run_id).kind
    if kind == "bon":
        from db.read.bon import bon_summary

        return "bon", bon_summary(session, run_id, b, seed)
    if kind in SERIES_KINDS and len(series_points(session, run_id)) > 1:
        return "series", series(session, run_id, b=b, seed=seed)
    return None


def over_export(session, run_id: int, b: int, seed: int):  # noqa: ANN001, ANN201
    """(kind, columns, rows, conventions) of a series or bon run, or None for any other
    run (exported as pairs or prompts)."""
    found = over_summary(session, run_id, b, seed)
    if found is None:
        return None
    kind, data = found
    if kind == "bon":
        return kind, bon_columns(data), bon_rows(data), data.get("conventions") or {}
    return kind, list(SERIES_COLUMNS), series_rows(data), data["conventions"]
