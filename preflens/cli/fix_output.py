"""What ``preflens suspects``, ``preflens flags`` and ``diagnose --slices`` print: lines
formatted from the plain dicts of ``db.read.suspects``, ``db.flags`` and
``db.read.slices``."""

from __future__ import annotations

from typing import Any

from preflens.headline import fmt_p


def _one_line(text: str, width: int = 60) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


def suspects_lines(d: dict[str, Any]) -> list[str]:
    """The ranked suspects table, with the signals used and the statistic named."""
    where = f" split {d['split']!r}" if d["split"] else ""
    lines = [f"likely mislabelled pairs of dataset {d['dataset']!r}{where}: {d['statistic']}"]
    for r in d["runs"]:
        how = (
            f"T={r['temperature']:.3g}"
            if "temperature" in r
            else f"beta={r['beta']}"
            if r.get("beta") is not None
            else "beta unknown"
        )
        lines.append(
            f"  signal: run {r['run']} ({r['kind']} {r.get('model') or '-'}, "
            f"{r['pairs']} pairs, {how})"
        )
    for r in d.get("skipped", []):
        lines.append(
            f"  left out: run {r['run']} ({r['kind']} {r.get('model') or '-'}, "
            f"{r['pairs']} pairs): {r['reason']}"
        )
    lines.append(
        f"{d['total']} pairs with >= {d['min_signals']} signal(s); top {len(d['suspects'])}:"
    )
    lines.append(
        f"{'rank':>4} {'pair':>7} {'suspicion':>9} {'signals':>7} {'against':>7}  "
        f"{'flag':<11} prompt"
    )
    for r in d["suspects"]:
        lines.append(
            f"{r['rank']:>4} {r['pair_id']:>7} {r['suspicion']:>9.3f} {r['signals']:>7} "
            f"{r['runs_against']:>7}  {r['flag'] or '-':<11} {_one_line(r['prompt'])}"
        )
    lines.append(
        "suspicion: mean P(rejected is better) over signals; against: signals with gap < 0"
    )
    return lines


def flags_lines(flags: list[dict[str, Any]]) -> list[str]:
    """Flags, newest first."""
    if not flags:
        return ["no flags set (set one: preflens flags --set PAIR LABEL [--note TEXT])"]
    lines = [f"{'pair':>7} {'label':<11} {'set by':<12} {'when (UTC)':<20} note"]
    for f in flags:
        when = (f["updated_at"] or "")[:19].replace("T", " ")
        lines.append(
            f"{f['pair_id']:>7} {f['label']:<11} {_one_line(f['set_by'], 12):<12} "
            f"{when:<20} {_one_line(f['note'])}"
        )
    lines.append(f"{len(flags)} flag(s)")
    return lines


def _acc(iv: dict[str, Any]) -> str:
    if iv["value"] is None:
        return "n/a"
    return f"{iv['value']:.3f} [{iv['ci_low']:.3f}, {iv['ci_high']:.3f}]"


def _mark(r: dict[str, Any]) -> str:
    return ("H" if r["survives_holm"] else "-") + ("B" if r["survives_bh"] else "-")


def slices_lines(d: dict[str, Any]) -> list[str]:
    """One run's slices, or two runs' paired slices, with raw, Holm and BH p-values."""
    paired = "run_a" in d
    if paired:
        head = (
            f"slices: run {d['run_b']} vs run {d['run_a']} on {d['n']} shared pairs "
            "(difference = B - A; p: exact McNemar per slice)"
        )
    else:
        head = (
            f"slices of run {d['run']}: {d['n']} pairs, overall accuracy "
            f"{_acc(d['overall'])} (Wilson 95%); p: Fisher exact, slice vs rest"
        )
    lines = [
        head,
        f"{d['tests']} slices tested; Holm and Benjamini-Hochberg corrected over all of them; "
        f"marks: H survives Holm, B survives BH (adjusted p < {d['alpha']})",
    ]
    if not d["slices"]:
        return [*lines, "no grouping splits this run into more than one slice"]
    if paired:
        lines.append(
            f"{'by':<18} {'slice':<30} {'n':>6} {'acc A':>6} {'acc B':>6} {'B-A':>7} "
            f"{'p':>8} {'p Holm':>8} {'p BH':>8} mark"
        )
    else:
        lines.append(
            f"{'by':<18} {'slice':<30} {'n':>6} {'accuracy [95% CI]':<22} {'diff':>7} "
            f"{'p':>8} {'p Holm':>8} {'p BH':>8} mark"
        )
    for r in d["slices"]:
        name = _one_line(r["slice"], 30)
        ps = f"{fmt_p(r['p']):>8} {fmt_p(r['p_holm']):>8} {fmt_p(r['p_bh']):>8} {_mark(r)}"
        if paired:
            lines.append(
                f"{r['by']:<18} {name:<30} {r['n']:>6} {r['accuracy_a']['value']:>6.3f} "
                f"{r['accuracy_b']['value']:>6.3f} {r['difference']:>+7.3f} {ps}"
            )
        else:
            diff = "n/a" if r["difference"] is None else f"{r['difference']:+.3f}"
            lines.append(
                f"{r['by']:<18} {name:<30} {r['n']:>6} {_acc(r['accuracy']):<22} {diff:>7} {ps}"
            )
    return lines
