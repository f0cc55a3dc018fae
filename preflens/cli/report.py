"""``preflens report``: one self-contained HTML file (inline CSS and SVG charts, no script,
no network) from the plain dicts of ``db.read.diagnostics``. Every text from the store
is HTML-escaped, so model output is shown as text and never runs."""

from __future__ import annotations

from html import escape
from typing import Any

from dashboard import palette
from preflens.headline import fmt_p, headline_text

# The dashboard's palette, so a colour means the same in the report as on every page.
GREY, RED, GREEN = palette.NEUTRAL, palette.REJECTED, palette.CHOSEN
LONGER, SHORTER = palette.LONGER, palette.SHORTER
CSS = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:3px 8px;
text-align:left;vertical-align:top;font-size:.9em}.num{text-align:right;font-variant-numeric:
tabular-nums}.note{color:#555;font-size:.85em}.badge{background:#eee;border-radius:3px;
padding:0 4px;font-size:.85em}.text{white-space:pre-wrap;max-width:320px}
td,th,p,li,.text{overflow-wrap:anywhere}
.banner{border:2px solid #d62728;background:#fdecea;padding:.6em 1em;font-weight:600}
"""


def _f(x: float | None, digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def _iv(iv: dict[str, Any] | None) -> str:
    if not iv or iv.get("value") is None:
        return "n/a"
    if iv.get("ci_low") is None or iv.get("ci_high") is None:
        return f"{iv['value']:.3f} ({escape(iv.get('note') or 'no interval')})"
    return f"{iv['value']:.3f} [{iv['ci_low']:.3f}, {iv['ci_high']:.3f}]"


def interval_bars(rows: list[tuple[str, dict[str, Any], str]], rule: float | None = 0.5) -> str:
    """Horizontal interval bars on [0, 1]: a dot at the value, a line over the 95%
    interval, one row per (label, interval, colour); a dashed rule at ``rule``."""
    left, width, row_h = 260, 420, 26
    height = row_h * len(rows) + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 60}" '
        f'height="{height}" role="img">'
    ]
    for t in (0, 0.25, 0.5, 0.75, 1.0):
        x = left + t * width
        parts.append(f'<line x1="{x}" y1="5" x2="{x}" y2="{height - 20}" stroke="#eee"/>')
        parts.append(
            f'<text x="{x}" y="{height - 5}" font-size="11" text-anchor="middle">{t:g}</text>'
        )
    if rule is not None:
        x = left + rule * width
        parts.append(
            f'<line x1="{x}" y1="5" x2="{x}" y2="{height - 20}" stroke="{GREY}" '
            'stroke-dasharray="4 3"/>'
        )
    for i, (label, iv, colour) in enumerate(rows):
        y = 18 + i * row_h
        parts.append(
            f'<text x="{left - 8}" y="{y + 4}" font-size="12" text-anchor="end">'
            f"{escape(label)}</text>"
        )
        if iv and iv.get("value") is not None:
            lo, hi = iv.get("ci_low"), iv.get("ci_high")
            if lo is None or hi is None:  # no interval: the line shrinks to the dot
                lo = hi = iv["value"]
            x0, x1 = left + lo * width, left + hi * width
            xv = left + iv["value"] * width
            parts.append(
                f'<line x1="{x0}" y1="{y}" x2="{x1}" y2="{y}" stroke="{colour}" '
                'stroke-width="4" stroke-linecap="round" opacity="0.5"/>'
            )
            parts.append(f'<circle cx="{xv}" cy="{y}" r="5" fill="{colour}"/>')
            parts.append(
                f'<text x="{left + width + 4}" y="{y + 4}" font-size="10">'
                f"n={iv.get('n', '')}</text>"
            )
        else:  # no estimate: say so on the row (the note's head, e.g. "not estimable")
            why = ((iv or {}).get("note") or "no estimate").split(":")[0]
            parts.append(
                f'<text x="{left + 4}" y="{y + 4}" font-size="11" fill="{GREY}">'
                f"n/a: {escape(why)}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)


def _scale(v: float, lo: float, hi: float, a: float, b: float) -> float:
    return a + (v - lo) / (hi - lo or 1.0) * (b - a)


def reliability_svg(bins: list[dict[str, Any]], after: list[dict[str, Any]] | None) -> str:
    """Reliability diagram: observed share against mean predicted probability per bin
    (dot area ~ n), the diagonal of perfect calibration, and (green) after temperature."""
    size, pad = 320, 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size + 2 * pad}" '
        f'height="{size + 2 * pad}" role="img">',
        f'<rect x="{pad}" y="{pad}" width="{size}" height="{size}" fill="none" stroke="#ccc"/>',
        f'<line x1="{pad}" y1="{pad + size}" x2="{pad + size}" y2="{pad}" '
        f'stroke="{GREY}" stroke-dasharray="4 3"/>',
        f'<text x="{pad + size / 2}" y="{size + 2 * pad - 8}" font-size="11" '
        'text-anchor="middle">mean predicted P(first preferred)</text>',
        f'<text x="12" y="{pad + size / 2}" font-size="11" text-anchor="middle" '
        f'transform="rotate(-90 12 {pad + size / 2})">observed share</text>',
    ]
    for series, colour in ((bins, palette.GAP), (after or [], palette.AFTER_TEMPERATURE)):
        total = sum(b["n"] for b in series) or 1
        for b in series:
            if not b["n"]:
                continue
            x = pad + b["mean_predicted"] * size
            y = pad + size - b["observed"] * size
            r = 2 + 10 * (b["n"] / total) ** 0.5
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{colour}" opacity="0.7"/>'
            )
    parts.append("</svg>")
    return "".join(parts)


def length_bins_svg(lc: dict[str, Any]) -> str:
    """Accuracy by length-difference bin with 95% error bars; rules: the longer-wins
    and shorter-wins baselines in the palette's longer / shorter colours."""
    bins = lc["bins"]
    w, h, pad = 520, 240, 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w + 2 * pad}" '
        f'height="{h + 2 * pad + 20}" role="img">',
        f'<rect x="{pad}" y="{pad}" width="{w}" height="{h}" fill="none" stroke="#ccc"/>',
    ]
    for name, colour in (("longer_wins_baseline", LONGER), ("shorter_wins_baseline", SHORTER)):
        v = lc[name]["value"]
        if v is not None:
            y = pad + h - v * h
            parts.append(
                f'<line x1="{pad}" y1="{y}" x2="{pad + w}" y2="{y}" stroke="{colour}" '
                f'stroke-dasharray="6 3"><title>{name} {v:.3f}</title></line>'
            )
    step = w / max(len(bins), 1)
    for i, b in enumerate(bins):
        acc = b["accuracy"]
        x = pad + step * (i + 0.5)
        if acc["value"] is not None:
            y0, y1 = pad + h - acc["ci_low"] * h, pad + h - acc["ci_high"] * h
            parts.append(f'<line x1="{x}" y1="{y0}" x2="{x}" y2="{y1}" stroke="#333"/>')
            parts.append(f'<circle cx="{x}" cy="{pad + h - acc["value"] * h}" r="4" fill="#333"/>')
        parts.append(
            f'<text x="{x}" y="{pad + h + 14}" font-size="10" text-anchor="middle">'
            f"{b['lo']:.0f}..{b['hi']:.0f}</text>"
        )
        parts.append(
            f'<text x="{x}" y="{pad + h + 26}" font-size="9" text-anchor="middle" '
            f'fill="{GREY}">n={b["n"]}</text>'
        )
    for t in (0, 0.5, 1):
        parts.append(
            f'<text x="{pad - 4}" y="{pad + h - t * h + 4}" font-size="10" '
            f'text-anchor="end">{t:g}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def paired_scatter_svg(points: list[dict[str, Any]]) -> str:
    """Gap of run a (x) against gap of run b (y); flips in green (wrong->right) and red
    (right->wrong), the rest grey; axes at 0."""
    if not points:
        return ""
    size, pad = 320, 30
    xs = [p["gap_a"] for p in points] + [p["gap_b"] for p in points] + [0.0]
    lo, hi = min(xs), max(xs)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size + 2 * pad}" '
        f'height="{size + 2 * pad}" role="img">'
    ]
    z = _scale(0, lo, hi, pad, pad + size)
    zy = _scale(0, lo, hi, pad + size, pad)
    parts.append(f'<line x1="{z}" y1="{pad}" x2="{z}" y2="{pad + size}" stroke="#ccc"/>')
    parts.append(f'<line x1="{pad}" y1="{zy}" x2="{pad + size}" y2="{zy}" stroke="#ccc"/>')
    for p in points[:5000]:
        ra, rb = p["gap_a"] > 0, p["gap_b"] > 0
        colour = GREEN if (rb and not ra) else RED if (ra and not rb) else palette.NEUTRAL_LIGHT
        x, y = (
            _scale(p["gap_a"], lo, hi, pad, pad + size),
            _scale(p["gap_b"], lo, hi, pad + size, pad),
        )
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}" opacity="0.7"/>')
    parts.append("</svg>")
    return "".join(parts)


def headline_html(h: dict[str, Any]) -> str:
    """One headline as a paragraph: the value, its interval, n, method and the verdict
    badges (each badge in bold)."""
    text = headline_text({**h, "verdicts": []})
    badges = "".join(f" <b class=badge>{escape(v)}</b>" for v in h.get("verdicts") or [])
    return f"<p class=headline>{escape(text)}{badges}</p>"


def _calibration_text(cal: dict[str, Any]) -> str:
    base = f"ECE {_f(cal['ece'])}, Brier {_f(cal['brier'])}, NLL {_f(cal['nll'])}, "
    if cal["temperature"] is None:
        fit = cal.get("temperature_fit") or "not fitted"
        return base + f"temperature: {escape(fit)}; no after-temperature numbers"
    return (
        base + f"temperature {_f(cal['temperature'])}, ECE after temperature "
        f"{_f(cal['ece_after_temperature'])}"
    )


def _score_sections(d: dict[str, Any]) -> list[str]:
    lc, cal = d["length"], d["calibration"]
    out = [
        "<h2>Headline numbers (95% intervals)</h2>",
        *(headline_html(h) for h in d.get("headlines") or []),
        interval_bars(
            [
                ("accuracy (Wilson)", d["accuracy"], GREEN),
                ("AUC chosen vs rejected (bootstrap)", d["auc"], GREEN),
                ("accuracy, chosen longer", lc["chosen_longer"], LONGER),
                ("accuracy, chosen shorter", lc["chosen_shorter"], SHORTER),
                ("length-balanced accuracy", lc["length_balanced_accuracy"], GREEN),
                ("baseline: longer wins", lc["longer_wins_baseline"], LONGER),
                ("baseline: shorter wins", lc["shorter_wins_baseline"], SHORTER),
            ]
        ),
        "<table>",
        f"<tr><th>pairs</th><td class=num>{d['n']}</td></tr>",
        f"<tr><th>accuracy</th><td class=num>{_iv(d['accuracy'])}</td></tr>",
        f"<tr><th>AUC</th><td class=num>{_iv(d['auc'])}</td></tr>",
        f"<tr><th>mean gap (chosen - rejected)</th><td class=num>{_iv(d['gap_mean'])}</td></tr>",
        f"<tr><th>ties (gap 0, counted wrong)</th><td class=num>{d['ties']}</td></tr>",
        "</table>",
        "<h3>Accuracy by category</h3><table><tr><th>category</th><th>n</th>"
        "<th>accuracy [95%]</th></tr>",
    ]
    for c in d["by_category"]:
        out.append(
            f"<tr><td>{escape(str(c['category'] or '(none)'))}</td>"
            f"<td class=num>{c['n']}</td><td class=num>{_iv(c['accuracy'])}</td></tr>"
        )
    out += [
        "</table><h2>Length control</h2>",
        f"<p class=note>{escape(lc['label'])}; source: {escape(lc.get('source', ''))}. "
        f"Spearman(gap, length diff) = {_f(lc['spearman_gap_length_diff'])}.</p>",
        length_bins_svg(lc),
        "<p class=note>Accuracy per bin of length difference (chosen - rejected) with 95% "
        "Wilson bars; dashed rules: the longer-wins (orange) and shorter-wins (blue) "
        "baselines on the same pairs.</p>",
        "<h2>Calibration</h2>",
        f"<p class=note>{escape(cal['label'])}</p>",
        f"<p>{_calibration_text(cal)}</p>",
        reliability_svg(cal["bins"], cal.get("bins_after_temperature")),
        "<p class=note>Blue: sigmoid(gap); green: after the cross-fitted temperature; dot "
        "area grows with the bin's count; dashed: perfect calibration.</p>",
    ]
    return out


def _generation_sections(d: dict[str, Any]) -> list[str]:
    out = [
        "<h2>Policies</h2><table><tr><th>policy</th><th>n</th>"
        "<th>mean RM score [95%]</th><th>mean chars</th></tr>"
    ]
    for name, p in d["policies"].items():
        out.append(
            f"<tr><td>{escape(name)}</td><td class=num>{p['n']}</td>"
            f"<td class=num>{_iv(p['score_mean'])}</td>"
            f"<td class=num>{p['mean_chars']:.0f}</td></tr>"
        )
    out.append("</table>")
    for c in d["comparisons"]:
        lc = c["length_controlled"]
        out += [
            f"<h2>{escape(c['a'])} vs {escape(c['b'])} ({c['n']} prompts)</h2>",
            headline_html(c["headline"]) if c.get("headline") else "",
            interval_bars(
                [
                    ("win rate (W+T/2)/n", c["win_rate"], palette.name_color(c["a"])),
                    (
                        "decisive win rate W/(W+L)",
                        c["decisive_win_rate"],
                        palette.name_color(c["a"]),
                    ),
                    ("length-controlled win rate", lc["lc_win_rate"], LONGER),
                ]
            ),
            f"<p>mean difference A - B {_iv(c['mean_difference'])}; wins/ties/losses "
            f"{c['wins']}/{c['ties']}/{c['losses']}; sign test p "
            f"{fmt_p(c['sign_test_p'])}; raw win rate {_f(lc['raw_win_rate'])}</p>",
        ]
    return out


def _paired_section(
    p: dict[str, Any], points: list[dict[str, Any]], labels: dict[int, str]
) -> list[str]:
    f = p["flips"]
    named = [
        f"{side}: {escape(labels[p[f'run_{side}']])}" for side in "ab" if p[f"run_{side}"] in labels
    ]
    return [
        f"<h2>Run {p['run_b']} against run {p['run_a']} ({p['n']} shared pairs)</h2>",
        *([f"<p class=note>{'<br>'.join(named)}</p>"] if named else []),
        f"<p>accuracy a {_iv(p['accuracy_a'])}, b {_iv(p['accuracy_b'])}; difference b - a "
        f"{_iv(p['difference'])}; McNemar exact p {fmt_p(p['mcnemar_p'])}; flips wrong&rarr;right "
        f"{f['wrong_to_right']}, right&rarr;wrong {f['right_to_wrong']}; Kendall tau "
        f"{_f(p['kendall_tau'])}; Spearman {_f(p['spearman'])}; left out "
        f"{p['left_out']['only_a']} + {p['left_out']['only_b']}.</p>",
        paired_scatter_svg(points),
        "<p class=note>x: gap in run a, y: gap in run b (same scale; lines at 0). Green: "
        "wrong in a, right in b; red: right in a, wrong in b; grey: unchanged.</p>",
    ]


def _wrong_section(cases: list[dict[str, Any]]) -> list[str]:
    out = [
        "<h2>Most confidently wrong pairs</h2><table><tr><th>pair</th><th>gap</th>"
        "<th>P(chosen)</th><th>category</th><th>prompt</th><th>chosen</th>"
        "<th>rejected</th></tr>"
    ]
    for c in cases:
        out.append(
            f"<tr><td class=num>{c['pair_id']}</td><td class=num>{c['gap']:.3f}</td>"
            f"<td class=num>{c['p_chosen']:.3f}</td><td>{escape(str(c['category'] or ''))}</td>"
            + "".join(
                f"<td class=text>{escape(c[k])}</td>" for k in ("prompt", "chosen", "rejected")
            )
            + "</tr>"
        )
    out.append("</table>")
    return out


def render_report(
    diagnostics: dict[str, Any],
    paired: dict[str, Any] | None = None,
    paired_points: list[dict[str, Any]] | None = None,
    wrong: list[dict[str, Any]] | None = None,
    labels: dict[int, str] | None = None,
) -> str:
    """The whole HTML document. ``labels``: run id -> the one run label
    (``preflens.run_label``, with the run's max length) for the header and the paired
    section; without one a run is named by its id and kind."""
    d, labels = diagnostics, labels or {}
    name = labels.get(d["run_id"]) or f"run {d['run_id']} ({d['kind']})"
    body = [f"<h1>PrefLens diagnostics: {escape(name)}</h1>"]
    label = (d.get("state") or {}).get("label")
    if label:  # a failed or running run: its numbers are not final
        body.append(f"<p class=banner role=alert>{escape(label)}</p>")
    body.append(
        "<p class=note>"
        + "<br>".join(f"{escape(k)}: {escape(v)}" for k, v in d["conventions"].items())
        + "</p>"
    )
    body += _score_sections(d) if d["kind"] == "score" else _generation_sections(d)
    if paired:
        body += _paired_section(paired, paired_points or [], labels)
    if wrong:
        body += _wrong_section(wrong)
    return (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        f"<title>PrefLens {escape(name)}</title><style>{CSS}</style></head><body>"
        + "\n".join(body)
        + "</body></html>"
    )
