"""What the command line prints about checkpoint series and best-of-N runs (through
``preflens.cli.output.out``): the same numbers as ``/v1/runs/{id}/series`` and
``/v1/runs/{id}/bon``, each saying what it is."""

from __future__ import annotations

from typing import Any

from preflens.cli.output import out
from preflens.uncertainty import proportion


def _iv(iv: dict[str, Any] | None, digits: int = 3) -> str:
    """``0.812 [0.70, 0.89]``: a value with its 95% interval."""
    if not iv or iv.get("value") is None:
        return "n/a"
    if iv.get("ci_low") is None or iv.get("ci_high") is None:
        return f"{iv['value']:.{digits}f} (n too small for an interval)"
    return f"{iv['value']:.{digits}f} [{iv['ci_low']:.{digits}f}, {iv['ci_high']:.{digits}f}]"


def _p(p: float | None) -> str:
    return "n/a" if p is None else f"{p:.2e}"


def print_series_points(parent: int, rows: list[tuple[int, int, dict[str, Any]]]) -> None:
    """One line per scored checkpoint of a series: step, score run, accuracy (Wilson)."""
    out(f"checkpoint series of run {parent} (preflens diagnose {parent} for the comparisons)")
    for step, rid, summary in rows:
        n = int(summary.get("pairs") or 0)
        acc = proportion(round((summary.get("accuracy") or 0.0) * n), n)
        out(f"  step {step:>6}  score run {rid:>4}  accuracy {_iv(acc)} (Wilson 95%) n {n}")


def series_lines(s: dict[str, Any]) -> list[str]:
    """``db.read.series.series`` as text: per step accuracy, AUC, gap mean, ECE and the
    change from the previous step; the best step against the last; oscillating pairs."""
    lines = [
        f"checkpoint series of run {s['run_id']} ({s['kind']}): {len(s['steps'])} steps, "
        f"{s['n_pairs']} pairs scored at every step (a tie counts as wrong)",
        "  step   accuracy (Wilson 95%)      AUC (bootstrap 95%)        gap mean"
        "                ECE    learned forgotten McNemar p",
    ]
    for p in s["points"]:
        vs = p["vs_previous"] or {}
        change = f"{vs['learned']:>7} {vs['forgotten']:>9} {_p(vs['mcnemar_p']):>9}" if vs else ""
        ece = "n/a" if p["ece"] is None else f"{p['ece']:.3f}"
        lines.append(
            f"  {p['step']:>5}  {_iv(p['accuracy']):<26} {_iv(p['auc']):<26} "
            f"{_iv(p['gap_mean'], 2):<23} {ece:<6} {change}"
        )
    best = s.get("best")
    if best:
        lvb = best["last_vs_best"]
        lines.append(
            f"  best step {best['step']} (run {best['run_id']}); last step {best['last_step']} "
            f"minus best: accuracy {_iv(lvb['difference'])} (paired bootstrap 95%), "
            f"McNemar p {_p(lvb['mcnemar_p'])} ({lvb['learned']} learned, "
            f"{lvb['forgotten']} forgotten since the best)"
        )
    osc = s["oscillating"]
    ids = ", ".join(str(i) for i in osc["pair_ids"][:10])
    more = " ..." if osc["count"] > 10 else ""
    lines.append(
        f"  pairs flipping right/wrong more than once: {osc['count']}"
        + (f" (pair ids {ids}{more})" if osc["count"] else "")
    )
    return lines


def bon_lines(b: dict[str, Any]) -> list[str]:
    """``db.read.bon.bon_summary`` as text: per k the proxy, gold and length means of the
    proxy's best-of-k pick (bootstrap 95% over prompts) and the analytic KL."""
    lines = [
        f"best-of-N run {b['run_id']} (policy {b.get('policy')}): {b['prompts']} prompts x "
        f"N={b['n']} answers; expected value of the proxy's best-of-k pick over every "
        "k-subset (proxy ties picked at random), mean over prompts, bootstrap 95%"
    ]
    if not b["ks"]:
        lines.append("  no prompt has all its answers scored yet")
        return lines
    curves = b["curves"]
    head = f"  {'k':>4}  {'KL (nats)':>9}  {'proxy':<26}"
    head += f"  {'gold':<26}" if "gold" in curves else ""
    lines.append(head + "  generated tokens")
    for j, k in enumerate(b["ks"]):
        row = f"  {k:>4}  {b['kl'][j]:>9.3f}  {_iv(curves['proxy'][j]):<26}"
        if "gold" in curves:
            row += f"  {_iv(curves['gold'][j]):<26}"
        lines.append(row + f"  {_iv(curves['length'][j], 1)}")
    peak = b.get("gold_peak")
    if peak:
        lines.append(
            f"  gold reward peaks at k={peak['k']} (KL {peak['kl']:.3f} nats): "
            f"{peak['gold']:.3f}; past it the proxy is being over-optimised"
            if peak["k"] < b["ks"][-1]
            else f"  gold reward still rising at k={peak['k']}: no over-optimisation seen"
        )
    return lines
