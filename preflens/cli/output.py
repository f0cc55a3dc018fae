"""Everything the command line prints about results: one function per kind of result.

Jobs return results and never print; commands call these. Numbers say what they are:
a ``std`` is the population standard deviation of the values, not an uncertainty.
"""

from __future__ import annotations

import sys
from typing import Any

from preflens.headline import headline, headline_text
from preflens.rm_label import head_untrained, rm_label
from preflens.run_label import length_text
from preflens.uncertainty import proportion, win_rates


def out(text: str = "") -> None:
    """Command output (results for the user; diagnostics go through logging)."""
    print(text, flush=True)


def error(text: str) -> None:
    """A command's one-line failure, on standard error."""
    print(text, file=sys.stderr, flush=True)


def warning(text: str) -> None:
    """A warning the user must see before the results (standard error, one line)."""
    print(text, file=sys.stderr, flush=True)


def print_lines(lines: list[str]) -> None:
    """Lines formatted elsewhere (``preflens.cli.probe_output``), one per line."""
    for line in lines:
        out(line)


def print_ingest_report(report: Any) -> None:
    """A ``training.jobs.ingest.IngestReport``."""
    out(f"dataset {report.dataset!r} (layout: {report.format})")
    replaced = report.replaced
    if replaced is not None:
        runs = ", ".join(map(str, replaced.runs)) or "none"
        out(
            f"  replaced:      the old dataset (id {replaced.dataset_id}: {replaced.pairs} pairs, "
            f"{replaced.rejected} rejected rows) and its runs: {runs}"
        )
    out(f"  rows read:     {report.rows}")
    splits = ", ".join(f"{k}: {v}" for k, v in sorted(report.splits.items()))
    out(f"  pairs added:   {report.added}" + (f"  ({splits})" if report.splits else ""))
    out(f"  already there: {report.duplicates}")
    stored = ""
    if report.kept and report.rejected_new != report.rejected:
        stored = f"  ({report.rejected_new} newly stored; the others were stored before)"
    out(f"  rejected rows: {report.rejected}{stored}")
    for reason, count in report.reasons.most_common():
        out(f"    {count:>6}  {reason}")
    for _, example in report.examples[:10]:
        out(f"    e.g. {example}")
    if not report.kept:
        out("  no pair could be stored, so this ingest kept nothing in the store")


def score_headline(summary: dict, untrained: bool | None = False) -> dict:
    """The accuracy headline of a score run's summary (Wilson 95%; a tie counts wrong)."""
    n = int(summary.get("pairs") or 0)
    correct = round((summary.get("accuracy") or 0.0) * n)  # accuracy is correct / n exactly
    return headline("accuracy", proportion(correct, n), untrained=untrained)


def score_run_untrained(config: dict | None) -> bool | None:
    """Whether a score run's reward model had a seeded, untrained head, from the
    ``rm_layout`` record its config keeps (None when the run kept no record)."""
    return head_untrained("score", config, None)


def print_score_summary(summary: dict, label: str = "", untrained: bool | None = None) -> None:
    """Accuracy with its Wilson 95% interval, n and verdicts (a tie counts as wrong), the
    mean and population std of every score (both sides), and the sides whose
    conversation (as scored) was cut at the run's max length. ``untrained`` (the
    ``untrained head`` verdict) defaults to the summary's own ``head_initialized``."""
    if not summary or not summary.get("pairs"):
        out(f"{label}no pairs scored")
        return
    if untrained is None:
        untrained = summary.get("head_initialized")
    out(f"{label}{headline_text(score_headline(summary, untrained))}")
    out(
        f"{' ' * len(label)}reward mean {summary['reward_mean']:.3f} (std of scores "
        f"{summary['reward_std']:.3f})  sides cut at max length "
        f"{summary['truncated_responses']} of {2 * summary['pairs']} (conversation tokens "
        "as scored; start cut, end kept)"
    )


def run_line_summary(kind: str, summary: dict | None) -> str:
    """One line of headline numbers for a run, by kind (``preflens runs``)."""
    s = summary or {}
    if not s:
        return ""
    if kind == "score" and "accuracy" in s:
        return (
            f"acc {s['accuracy']:.3f} mean {s['reward_mean']:.2f} "
            f"std {s['reward_std']:.2f} n {s['pairs']}"
        )
    if kind in ("train_rm", "train_dpo"):
        parts = [f"{s.get('steps', '?')} steps", f"loss {s.get('train_loss', float('nan')):.3f}"]
        if "eval_accuracy" in s:
            parts.append(f"eval acc {s['eval_accuracy']:.3f}")
        if s.get("series_steps"):
            parts.append(f"series of {len(s['series_steps'])} checkpoints")
        margin = (s.get("last") or {}).get("rewards/margins")
        if margin is not None:
            parts.append(f"margin {margin:.3f}")
        return ", ".join(parts)
    if kind == "generate":
        return ", ".join(
            f"{name} {p['n']} ({p['cut_at_limit']} cut)"
            for name, p in (s.get("policies") or {}).items()
        )
    if kind == "score_generations":
        return ", ".join(
            f"{c['a']} vs {c['b']} {c['mean_diff']:+.3f} win rate {c['win_rate']:.1%}"
            for c in s.get("comparisons") or []
            if c.get("n")
        )
    if kind == "probe" and s.get("original_accuracy"):
        return (
            f"orig acc {_short(s['original_accuracy'])} n {s.get('pairs')}, "
            f"{len(s.get('edits') or [])} edits"
        )
    if kind == "score_dpo" and s.get("accuracy"):
        return f"implicit acc {_short(s['accuracy'])} n {s.get('pairs')}"
    return _over_line(kind, s)


def _over_line(kind: str, s: dict) -> str:
    """Checkpoint series and best-of-N runs (``preflens diagnose RUN`` prints them whole)."""
    if kind == "series" and s.get("points"):
        first, last = s["points"][0][0], s["points"][-1][0]
        return f"series of {len(s['points'])} checkpoints (steps {first}..{last})"
    if kind == "bon" and s.get("n"):
        roles = " + ".join(s.get("score_runs") or {}) or "no RM"
        return f"best-of-N: {s['n']} answers x {s['prompts']} prompts, scored by {roles}"
    if kind == "bon_score" and s.get("role"):
        return f"{s['role']} RM scores of {s.get('answers')} answers"
    return ""


def _short(iv: dict) -> str:
    """``0.812 [0.70, 0.89]``: a rate and its 95% interval, short for one-line listings."""
    if iv.get("value") is None:
        return "n/a"
    if iv.get("ci_low") is None or iv.get("ci_high") is None:
        return f"{iv['value']:.3f}"
    return f"{iv['value']:.3f} [{iv['ci_low']:.2f}, {iv['ci_high']:.2f}]"


def print_runs(runs: list) -> None:
    """Runs (ORM rows) as a table."""
    if not runs:
        out("no runs yet")
        return
    out(
        f"{'id':>4}  {'kind':<17} {'status':<11} {'progress':>8}  {'dataset/split':<22} "
        f"{'model':<28} {'max length':<16} summary"
    )
    for r in runs:
        where = f"{r.dataset.name if r.dataset else '-'}/{r.split or 'all'}"
        model = (r.checkpoint.name if r.checkpoint else r.config.get("model", "-"))[-28:]
        status = getattr(r, "shown_status", r.status)
        out(
            f"{r.id:>4}  {r.kind:<17} {status:<11} {r.progress:>7.0%}  {where:<22} "
            f"{model:<28} {length_text(r.kind, r.config) or '-':<16} "
            f"{run_line_summary(r.kind, r.summary)}"
            + (f"  [{label}]" if (label := _rm_label(r)) else "")
            + (f"  error: {r.error}" if r.error else "")
        )


def _rm_label(run: Any) -> str:
    label = rm_label(run.kind, run.config, run.checkpoint.kind if run.checkpoint else None)
    config = run.config or {}
    if config.get("imported"):  # made elsewhere and imported (preflens import-*)
        label = "; ".join(filter(None, [f"imported ({config.get('format')})", label]))
    return label


def print_datasets(rows: list[tuple[Any, dict]]) -> None:
    """(dataset, counts) pairs as a listing with rejected-row reasons."""
    if not rows:
        out("no datasets yet; `preflens ingest PATH` adds one")
    for ds, c in rows:
        splits = ", ".join(f"{k}: {v}" for k, v in sorted(c["splits"].items()))
        out(
            f"{ds.id:>3}  {ds.name:<24} {ds.format:<15} pairs {c['pairs']} ({splits})  "
            f"rejected {c['rejected']}"
        )
        if len(c["splits"]) > 1:
            out(f"       prompts found in more than one split: {c.get('shared_prompts', 0)}")
        for reason, n in sorted(c["reasons"].items(), key=lambda kv: -kv[1]):
            out(f"       {n:>6}  {reason}")


def print_training_summary(run: Any) -> None:
    """A finished ``train_rm`` / ``train_dpo`` run (ORM row)."""
    s = run.summary or {}
    pairs = s.get("train_pairs", "?")
    if s.get("dropped_pairs"):
        pairs = f"{pairs - s['dropped_pairs']} (of {pairs}; {s['dropped_pairs']} left out)"
    out(
        f"{run.kind} run {run.id}: {run.status}, {s.get('steps', '?')} steps on "
        f"{pairs} pairs, train loss {s.get('train_loss', float('nan')):.4f}"
    )
    if "eval_rewards/margins" in s:
        out(
            f"  eval: loss {s['eval_loss']:.4f}  margin {s['eval_rewards/margins']:.4f}  "
            f"accuracy {s.get('eval_rewards/accuracies', float('nan')):.3f}"
        )
    if "eval_accuracy" in s:
        out(f"  eval accuracy {s['eval_accuracy']:.3f}  eval loss {s['eval_loss']:.4f}")
    last = s.get("last") or {}
    if "rewards/margins" in last:
        keys = ("loss", "rewards/chosen", "rewards/rejected", "rewards/margins")
        keys += ("rewards/accuracies",)
        out("  last step: " + "  ".join(f"{k} {last[k]:.4f}" for k in keys if k in last))
    if s.get("truncated_pairs"):
        dropped = (
            f"; {s['dropped_pairs']} with over-long prompts were left out)"
            if s.get("dropped_pairs")
            else ")"
        )
        out(
            f"  {s['truncated_pairs']} training pairs were longer than --max-length (their ends "
            "were cut" + dropped
        )
    if s.get("output"):
        out(f"  checkpoint: {s['output']}")


def print_rm_training(run: Any) -> None:
    """A ``train_rm`` run with its before/after score runs."""
    print_training_summary(run)
    scores = (run.summary or {}).get("scores", {})
    for label in ("before", "after"):
        if label in scores:
            print_score_summary(
                scores[label], f"  {label} training (score run {scores[label]['run']}): "
            )


def _tokens(mean: float | None) -> str:
    """A mean token count, or what an imported file did not say."""
    return "n/a (not in the imported file)" if mean is None else f"{mean:.1f}"


def print_generation_summary(summary: dict) -> None:
    for name, s in (summary.get("policies") or {}).items():
        out(
            f"  {name:<12} answers {s['n']}  mean generated tokens {_tokens(s['mean_tokens'])}  "
            f"cut at the token limit {s['cut_at_limit']} of {s['n']}"
        )


def print_comparison(summary: dict) -> None:
    for name, s in (summary.get("policies") or {}).items():
        if not s.get("n"):
            continue
        corr = s.get("pearson_length_score")
        out(
            f"  {name:<12} score mean {s['mean']:.3f} (std of scores {s['std']:.3f})  answer "
            f"length {s['mean_chars']:.0f} chars / {_tokens(s.get('mean_tokens'))} generated "
            f"tokens  cut at the token limit {s['cut_at_limit']} of {s['n']}  length-score r "
            f"{'n/a' if corr is None else f'{corr:.2f}'}"
        )
    if summary.get("n") is not None:
        out(f"  on the {summary['n']} prompts every policy answered")
    policies = summary.get("policies") or {}
    for c in summary.get("comparisons") or []:
        decisive = c.get("decisive_win_rate")
        pa, pb = policies.get(c["a"]) or {}, policies.get(c["b"]) or {}
        cut = (
            int(pa.get("cut_at_limit") or 0) + int(pb.get("cut_at_limit") or 0),
            int(pa.get("n") or 0) + int(pb.get("n") or 0),
        )
        rate = win_rates(c["wins"], c["ties"], c["losses"])["win_rate"]
        h = headline(f"{c['a']} vs {c['b']}: win rate (W+T/2)/n", rate, cut=cut)
        out(f"  {headline_text(h, pct=True)}")
        out(
            f"    mean difference {c['mean_diff']:+.3f}  wins {c['wins']}  ties {c['ties']}  "
            f"losses {c['losses']}  decisive {'n/a' if decisive is None else f'{decisive:.1%}'} "
            "(W/(W+L))"
        )


def print_demo_header(number: int, total: int, title: str) -> None:
    """A demo step's header, printed as the step begins (before its progress output)."""
    out(f"== {number}/{total} {title}")


def print_demo_step(step: Any, header: bool = True) -> None:
    """One ``training.jobs.demo.DemoStep`` as it finishes (``header``: print its header
    too, when it was not printed as the step began)."""
    if header:
        print_demo_header(step.number, step.total, step.title)
    r = step.result
    if step.kind == "model":
        out(f"{'converted' if r['created'] else 'found'} {r['name']} at {r['path']}")
    elif step.kind == "ingest":
        print_ingest_report(r)
    elif step.kind == "rm":
        print_training_summary(r)
        scores = r.summary["scores"]
        # Each score run says whether its head was initialised from a seed (the before
        # run's usually is): the headline then carries the "untrained head" verdict.
        print_score_summary(scores["before"], "  RM before training: ")
        print_score_summary(scores["after"], "  RM after training:  ")
    elif step.kind == "dpo":
        print_training_summary(r)
    elif step.kind == "generate":
        print_generation_summary(r.summary or {})
    elif step.kind == "compare":
        print_comparison(r["run"].summary or {})
    elif step.kind in ("probe", "score_dpo"):
        from preflens.cli.probe_output import dpo_summary_lines, probe_summary_lines

        lines = probe_summary_lines if step.kind == "probe" else dpo_summary_lines
        print_lines(lines(r["run"].summary or {}))
        if step.number == step.total:
            out("`preflens runs` lists every run of the demo.")
