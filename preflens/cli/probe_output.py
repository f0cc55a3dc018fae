"""What ``preflens probe`` and ``preflens score-dpo`` print: the run line and the
summaries as lines of text, each number labelled with its interval. The functions here
only format; ``preflens.cli.output`` prints them (``print_lines``), so this module
imports nothing from it and the demo's printing can use it too."""

from __future__ import annotations

from typing import Any


def _ci(item: dict[str, Any], fmt: str = "+.3f") -> str:
    lo, hi = item.get("ci_low"), item.get("ci_high")
    if lo is None or hi is None:
        return "(no interval)"
    return f"[{lo:{fmt}}, {hi:{fmt}}]"


def _rate(item: dict[str, Any] | None) -> str:
    if not item or item.get("value") is None:
        return "n/a"
    return f"{item['value']:.1%} {_ci(item, '.1%')} ({item['k']}/{item['n']})"


def probe_summary_lines(summary: dict[str, Any], indent: str = "  ") -> list[str]:
    """Per edit: mean score change (95% bootstrap interval over pairs, both sides averaged) and
    the flip rates when the edit is applied to the chosen / the rejected response."""
    lines = skipped_lines(summary, indent)
    if not summary.get("pairs"):
        return [*lines, f"{indent}no pairs probed"]
    lines.append(
        f"{indent}pairs {summary['pairs']}  original accuracy "
        f"{_rate(summary['original_accuracy'])}  ties {summary['original_ties']}"
    )
    lines.append(
        f"{indent}{'edit':<22} {'mean change [95% CI]':>28}   "
        f"{'flips if chosen edited':>26}   {'flips if rejected edited':>26}"
    )
    for e in summary["edits"]:
        m = e["mean_change"]
        mean = f"{m['value']:+.3f} {_ci(m)}" if m["value"] is not None else "n/a"
        fc, fr = e["flip_rate_chosen"], e["flip_rate_rejected"]
        lines.append(
            f"{indent}{e['edit']:<22} {mean:>28}   {_short_rate(fc):>26}   {_short_rate(fr):>26}"
        )
    lines.append(
        f"{indent}mean change: edited - original score, the two sides averaged per pair; "
        "flip: the sign of chosen - rejected changes (ties never flip); 95% intervals: "
        "bootstrap for means, Wilson for rates"
    )
    return lines


def skipped_lines(summary: dict[str, Any], indent: str = "  ", shown: int = 20) -> list[str]:
    """One line per reason pairs were left out of a probe run (their ids, the first
    ``shown`` of them; all are in the run's summary under ``skipped``)."""
    lines = []
    for reason, ids in sorted((summary.get("skipped") or {}).items()):
        more = f" and {len(ids) - shown} more" if len(ids) > shown else ""
        listed = ", ".join(str(i) for i in ids[:shown])
        lines.append(f"{indent}{len(ids)} pairs skipped: {reason} (pair ids {listed}{more})")
    return lines


def _short_rate(item: dict[str, Any]) -> str:
    if item.get("value") is None:
        return "n/a"
    return (
        f"{item['value']:.0%} [{item['ci_low']:.0%}, {item['ci_high']:.0%}] {item['k']}/{item['n']}"
    )


def probe_run_lines(result: Any) -> list[str]:
    """A ``JobResult`` of a probe run."""
    lines: list[str] = []
    run = result.run
    state = "already complete, reused" if result.reused else f"probed {result.done_now} pairs"
    lines.append(f"probe run {run.id} ({state}; split {run.split or 'all'})")
    return lines + probe_summary_lines(run.summary or {})


def dpo_summary_lines(s: dict[str, Any], indent: str = "  ") -> list[str]:
    """Implicit-reward accuracy and what moved against the reference."""
    lines: list[str] = []
    if not s.get("pairs"):
        return [f"{indent}no pairs scored"]
    lines.append(f"{indent}pairs {s['pairs']}  beta {s['beta']}  reward: {s['reward']}")
    lines.append(
        f"{indent}implicit-reward accuracy       {_rate(s['accuracy'])}  (ties {s['ties']})"
    )
    lines.append(f"{indent}length-normalised accuracy     {_rate(s['length_normalised_accuracy'])}")
    if s["reference_free"]:
        lines.append(f"{indent}no reference is used: no change in log-prob to report")
        lines.append(f"{indent}summed log-prob accuracy       {_rate(s['summed_logp_accuracy'])}")
    else:
        lines.append(f"{indent}chosen log-prob fell vs ref    {_rate(s['chosen_fell'])}")
        lines.append(f"{indent}rejected log-prob fell vs ref  {_rate(s['rejected_fell'])}")
        lines.append(f"{indent}both fell                      {_rate(s['both_fell'])}")
        lines.append(
            f"{indent}mean change in log-prob: chosen {s['delta_logp_chosen_mean']:+.3f}  "
            f"rejected {s['delta_logp_rejected_mean']:+.3f}"
        )
    m = s["margin"]
    lines.append(
        f"{indent}mean reward: chosen {s['reward_chosen_mean']:+.4f}  rejected "
        f"{s['reward_rejected_mean']:+.4f}  margin {m['value']:+.4f} {_ci(m, '+.4f')} "
        "(95% bootstrap)"
    )
    return lines


def score_dpo_run_lines(result: Any) -> list[str]:
    """A ``JobResult`` of a score_dpo run."""
    lines: list[str] = []
    run = result.run
    state = "already complete, reused" if result.reused else f"scored {result.done_now} pairs"
    ref = (run.config or {}).get("reference") or "none (reference-free)"
    lines.append(f"score-dpo run {run.id} ({state}; split {run.split or 'all'}; reference {ref})")
    return lines + dpo_summary_lines(run.summary or {})
