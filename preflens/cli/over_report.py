"""``preflens report`` of a checkpoint series or a best-of-N run: the same tables as
``preflens export`` (rows of ``preflens.cli.over_export``, from the read functions'
dicts, nothing recomputed) in one self-contained HTML file with the report's CSS and the
dashboard's palette. Every text from the store is HTML-escaped."""

from __future__ import annotations

from html import escape
from typing import Any

from dashboard.palette import GAP, series_colors
from preflens.cli.over_export import bon_columns, bon_rows, series_rows
from preflens.cli.report import CSS, GREEN, RED, interval_bars
from preflens.cli.report import _iv as iv_text


def _cell(value: Any) -> str:
    if value is None:
        return "<td class=num>n/a</td>"
    if isinstance(value, bool):
        return f"<td>{'best' if value else ''}</td>"
    if isinstance(value, float):
        return (
            f"<td class=num>{value:.3g}</td>"
            if abs(value) < 1e-3 and value
            else (f"<td class=num>{value:.3f}</td>")
        )
    return f"<td class=num>{escape(str(value))}</td>"


def _table(columns: list[str], rows: list[dict[str, Any]], colours: dict[str, str]) -> str:
    head = "".join(
        f'<th style="color:{colours[c]}">{escape(c)}</th>'
        if c in colours
        else f"<th>{escape(c)}</th>"
        for c in columns
    )
    body = "".join("<tr>" + "".join(_cell(r.get(c)) for c in columns) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def series_section(s: dict[str, Any]) -> list[str]:
    """The checkpoint series table (one row per step) with accuracy interval bars."""
    from preflens.cli.over_export import SERIES_COLUMNS

    rows = series_rows(s)
    out = [
        f"<h2>Checkpoint series of run {s['run_id']} ({escape(s['kind'])})</h2>",
        f"<p class=note>{len(s['steps'])} steps on the {s['n_pairs']} pairs every step "
        "scored. learned / forgotten: against the previous step.</p>",
        _table(list(SERIES_COLUMNS), rows, {"learned": GREEN, "forgotten": RED}),
        interval_bars([(f"step {p['step']}", p["accuracy"], GREEN) for p in s["points"]], rule=0.5),
    ]
    best = s.get("best")
    if best:
        lvb = best["last_vs_best"]
        p = lvb["mcnemar_p"]
        out.append(
            f"<p>Best step {best['step']} (score run {best['run_id']}); last step "
            f"{best['last_step']} minus best: accuracy {iv_text(lvb['difference'])} (paired "
            f"bootstrap 95%), McNemar p {'n/a' if p is None else f'{p:.2e}'}.</p>"
        )
    osc = s["oscillating"]
    out.append(f"<p>Pairs flipping right/wrong more than once: {osc['count']}.</p>")
    return out


def bon_section(b: dict[str, Any]) -> list[str]:
    """The best-of-k table (one row per k) coloured like the dashboard's curves."""
    out = [
        f"<h2>Best-of-N run {b['run_id']} (policy {escape(str(b.get('policy')))})</h2>",
        f"<p class=note>{b['prompts']} prompts x N={b['n']} answers. Each row: the expected "
        "value of the proxy's best-of-k pick over every k-subset of the N answers, mean "
        "over prompts, bootstrap 95% band over prompts; KL of best-of-k = log k - (k-1)/k "
        "nats; length in generated tokens.</p>",
    ]
    if not b["ks"]:
        out.append("<p>No prompt has all its answers scored yet.</p>")
        return out
    # The colours of the Best-of-N tab: proxy and gold as on its reward chart (coloured
    # together), length as its band chart draws it.
    colours = series_colors(c for c in ("proxy", "gold") if c in b["curves"])
    colours["length"] = GAP
    cols = bon_columns(b)
    head_colours = {c: colours[c.split("_ci_")[0]] for c in cols if c.split("_ci_")[0] in colours}
    out.append(_table(cols, bon_rows(b), head_colours))
    peak = b.get("gold_peak")
    if peak:  # said as the Best-of-N tab and diagnose say it
        out.append(
            f"<p>Gold reward peaks at k={peak['k']} (KL {peak['kl']:.3f} nats); past it "
            "the proxy is being over-optimised.</p>"
            if peak["k"] < b["ks"][-1]
            else "<p>Gold reward is highest at the largest k: no over-optimisation seen.</p>"
        )
    elif "gold" not in b["curves"]:
        out.append("<p>No gold RM: the proxy reward and the answer length are shown.</p>")
    return out


def render_over_report(kind: str, data: dict[str, Any], label: str | None) -> str:
    """The whole HTML document of a series (``db.read.series.series``) or a bon run
    (``db.read.bon.bon_summary``); ``label``: the run's state banner when not done."""
    name = f"run {data['run_id']}"
    body = [f"<h1>PrefLens {'checkpoint series' if kind == 'series' else 'best-of-N'}: {name}</h1>"]
    if label:
        body.append(f"<p class=banner role=alert>{escape(label)}</p>")
    conventions = data.get("conventions") or {}
    if conventions:
        body.append(
            "<p class=note>"
            + "<br>".join(f"{escape(k)}: {escape(str(v))}" for k, v in conventions.items())
            + "</p>"
        )
    body += series_section(data) if kind == "series" else bon_section(data)
    return (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        f"<title>PrefLens {escape(name)}</title><style>{CSS}</style></head><body>"
        + "\n".join(body)
        + "</body></html>"
    )
