"""What ``preflens diagnose`` prints: every number labelled, rates and means with their
95% interval as ``value [low, high]``. Prints through ``preflens.cli.output.out``."""

from __future__ import annotations

from typing import Any

from preflens.cli.output import out  # the one place results are printed
from preflens.headline import (
    fmt_p,  # the one p-value format (scientific below 1e-3)
    headline_text,
)


def fmt_interval(iv: dict[str, Any] | None, digits: int = 3) -> str:
    """``0.807 [0.734, 0.864] n=140`` (``n/a``, with the interval's note saying why, when
    there is no estimate)."""
    if not iv or iv.get("value") is None:
        n = (iv or {}).get("n")
        why = (iv or {}).get("note") or ""
        inside = ", ".join(x for x in (why, f"n={n}" if n is not None else "") if x)
        return "n/a" + (f" ({inside})" if inside else "")
    if iv.get("ci_low") is None or iv.get("ci_high") is None:
        text = f"{iv['value']:.{digits}f} ({iv.get('note') or 'no interval'})"
    else:
        text = f"{iv['value']:.{digits}f} [{iv['ci_low']:.{digits}f}, {iv['ci_high']:.{digits}f}]"
    return text + (f" n={iv['n']}" if iv.get("n") is not None else "")


def fmt_num(x: float | None, digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def print_score_diagnostics(d: dict[str, Any]) -> None:
    """A score run's diagnostics (``db.read.diagnostics.score_diagnostics``)."""
    out(f"run {d['run_id']} (score): {d['n']} pairs; 95% intervals in brackets")
    for h in d.get("headlines") or []:
        out(f"  headline: {headline_text(h)}")
    out(f"  accuracy (share gap > 0), Wilson:                  {fmt_interval(d['accuracy'])}")
    out(f"    ties (gap exactly 0, counted wrong):             {d['ties']}")
    out(f"  AUC chosen vs rejected (Mann-Whitney), bootstrap:  {fmt_interval(d['auc'])}")
    out(f"  mean gap (chosen - rejected), bootstrap:           {fmt_interval(d['gap_mean'])}")
    out(f"  gap std (population, not an uncertainty):          {fmt_num(d['gap_std'])}")
    out("  accuracy by category (Wilson):" if d["by_category"] else "  no categories")
    for c in d["by_category"]:
        out(f"    {str(c['category'] or '(none)'):<24} {fmt_interval(c['accuracy'])}")
    for key in ("length", "length_tokens"):
        if key in d:
            print_length(d[key])
    print_calibration(d["calibration"])


def print_length(lc: dict[str, Any]) -> None:
    out(f"  length control (response-only {lc['unit']}; {lc.get('source', '')}):")
    rows = (
        ("accuracy when chosen is longer", lc["chosen_longer"]),
        ("accuracy when chosen is shorter", lc["chosen_shorter"]),
        ("accuracy when equal length", lc["equal"]),
        ("baseline: longer response wins", lc["longer_wins_baseline"]),
        ("baseline: shorter response wins", lc["shorter_wins_baseline"]),
        ("length-balanced accuracy", lc["length_balanced_accuracy"]),
    )
    for label, iv in rows:
        out(f"    {label:<34} {fmt_interval(iv)}")
    out(f"    {'Spearman(gap, length diff)':<34} {fmt_num(lc['spearman_gap_length_diff'])}")
    out("    accuracy by length difference (chosen - rejected) bin:")
    for b in lc["bins"]:
        span = f"{b['lo']:.0f} .. {b['hi']:.0f}"
        out(f"      {span:<20} {fmt_interval(b['accuracy'])}")


def print_calibration(c: dict[str, Any]) -> None:
    out("  calibration of P(chosen) = sigmoid(gap) (each pair counted in both orders):")
    out(f"    ECE {fmt_num(c['ece'])}   Brier {fmt_num(c['brier'])}   NLL {fmt_num(c['nll'])}")
    fit = c.get("temperature_fit") or "ok"
    if c["temperature"] is None:
        out(f"    temperature: {fit}; no after-temperature numbers")
    else:
        out(
            f"    temperature {fmt_num(c['temperature'])}   ECE after temperature "
            f"(2-fold cross-fitted) {fmt_num(c['ece_after_temperature'])}"
        )
    out("    reliability: bin  n  mean predicted  observed")
    for b in c["bins"]:
        if b["n"]:
            out(
                f"      {b['lo']:.1f}-{b['hi']:.1f} {b['n']:>7}  "
                f"{b['mean_predicted']:.3f}  {b['observed']:.3f}"
            )


def print_generation_diagnostics(d: dict[str, Any]) -> None:
    """A score_generations run's diagnostics: policies and comparisons."""
    out(f"run {d['run_id']} (score_generations); 95% intervals in brackets")
    for name, p in d["policies"].items():
        out(
            f"  {name:<12} mean RM score {fmt_interval(p['score_mean'])}  "
            f"std {fmt_num(p['score_std'])} (population)  mean chars {p['mean_chars']:.0f}"
        )
    for c in d["comparisons"]:
        lc = c["length_controlled"]
        out(f"  {c['a']} vs {c['b']} on {c['n']} prompts (tie margin {c['tie_margin']}):")
        if c.get("headline"):
            out(f"    headline: {headline_text(c['headline'])}")
            cut = c["headline"].get("cut")
            if cut:
                out(f"    answers cut at the token limit: {cut['at_limit']} of {cut['of']}")
        out(f"    mean difference A - B, paired bootstrap: {fmt_interval(c['mean_difference'])}")
        out(f"    wins / ties / losses: {c['wins']} / {c['ties']} / {c['losses']}")
        out(f"    win rate (W + T/2)/n, Wilson:   {fmt_interval(c['win_rate'])}")
        out(f"    decisive win rate W/(W+L):      {fmt_interval(c['decisive_win_rate'])}")
        out(f"    sign test p (exact, two-sided): {fmt_p(c['sign_test_p'])}")
        out(f"    length-controlled win rate:     {fmt_interval(lc['lc_win_rate'])}")
        out(f"    raw win rate (same model):      {fmt_num(lc['raw_win_rate'])}")


def print_diagnostics(d: dict[str, Any]) -> None:
    """A run's diagnostics; a failed or running run's state comes first."""
    label = (d.get("state") or {}).get("label")
    if label:
        out(label)
    if d["kind"] == "score":
        print_score_diagnostics(d)
    else:
        print_generation_diagnostics(d)


def print_paired(p: dict[str, Any]) -> None:
    """Two score runs on the same pairs (``db.read.diagnostics.paired``)."""
    left = p["left_out"]
    out(
        f"run {p['run_b']} against run {p['run_a']} on {p['n']} shared pairs "
        f"(left out: {left['only_a']} only in {p['run_a']}, {left['only_b']} only in "
        f"{p['run_b']})"
    )
    out(f"  accuracy run {p['run_a']}: {fmt_interval(p['accuracy_a'])}")
    out(f"  accuracy run {p['run_b']}: {fmt_interval(p['accuracy_b'])}")
    out(f"  difference (b - a), paired bootstrap: {fmt_interval(p['difference'])}")
    out(f"  McNemar exact p: {fmt_p(p['mcnemar_p'])}")
    f = p["flips"]
    out(f"  flips: wrong->right {f['wrong_to_right']}, right->wrong {f['right_to_wrong']}")
    if f["wrong_to_right_ids"]:
        out(f"    wrong->right pair ids: {_ids(f['wrong_to_right_ids'])}")
    if f["right_to_wrong_ids"]:
        out(f"    right->wrong pair ids: {_ids(f['right_to_wrong_ids'])}")
    out(f"  Kendall tau-b of gaps: {fmt_num(p['kendall_tau'])}")
    out(f"  Spearman of gaps: {fmt_num(p['spearman'])}")


def _ids(ids: list[int], shown: int = 20) -> str:
    text = ", ".join(map(str, ids[:shown]))
    return text + (f", ... ({len(ids)} listed)" if len(ids) > shown else "")


def print_wrote(path: str, rows: int, what: str) -> None:
    out(f"wrote {rows} {what} to {path}")


def print_report_written(path: str, run: int, against: int | None) -> None:
    extra = f" against run {against}" if against is not None else ""
    out(f"wrote the report of run {run}{extra} to {path}")
