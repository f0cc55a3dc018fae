"""Diagnostics: is this RM better than length, than chance, than the last one? Every
headline number with its 95% interval, length control, calibration, a paired comparison
with another score run on the same pairs (flips one click away in Cases) and the most
confidently wrong pairs. The JSON twin: ``GET /v1/runs/{id}/diagnostics`` and friends."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data, frames, slices_view, ui
from dashboard import diagnostic_charts as dc
from dashboard import diagnostic_data as dd
from dashboard.state import FLIPS, cases_link
from preflens.headline import fmt_p, headline

TEXT_COLUMNS = {
    name: st.column_config.TextColumn(name, width="medium")
    for name in ("prompt", "chosen", "rejected")
}
MAX_POINTS = 5000
LINKED_FLIPS = 200


def iv(x: dict | None) -> str:
    if not x or x.get("value") is None:
        return "n/a"
    if x.get("ci_low") is None or x.get("ci_high") is None:
        return f"{x['value']:.3f} ({x.get('note') or 'no interval'})"
    return f"{x['value']:.3f} [{x['ci_low']:.3f}, {x['ci_high']:.3f}]"


def tiles(items: list[tuple[str, str | dict | None]]) -> None:
    """Tiles in one row; an estimate with an interval shows its value as the tile and
    the 95% interval underneath (the two in one tile were cut in a narrow column)."""
    for col, (label, value) in zip(st.columns(len(items)), items, strict=True):
        if isinstance(value, dict) or value is None:
            known = bool(value) and value.get("value") is not None
            col.metric(label, f"{value['value']:.3f}" if known else "n/a")
            if known and value.get("ci_low") is not None and value.get("ci_high") is not None:
                col.caption(f"95% [{value['ci_low']:.3f}, {value['ci_high']:.3f}]")
            elif known:
                col.caption(value.get("note") or "no interval")
        else:
            col.metric(label, value)


def num(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


st.title("Diagnostics")
url = ui.store_url()
runs = ui.runs_of(url, "score", "score_generations")
ui.need(bool(runs), "No scored runs yet: `preflens score --model RM --dataset NAME` first.")
run = ui.pick_run("Run", runs, key="diag_run", default_id=ui.first_done(runs))
stamp = frames.run_stamp(run)
d = dd.run_diagnostics(url, run["id"], stamp)
st.caption(" · ".join(f"{k}: {v}" for k, v in d["conventions"].items()))

if d["kind"] == "score_generations":
    for c in d["comparisons"]:
        lc = c["length_controlled"]
        st.subheader(f"{c['a']} (A) vs {c['b']} (B) on {c['n']} prompts")
        ui.headline_row(
            [c["headline"], headline("LC win rate", lc["lc_win_rate"])],
            help={
                c["headline"]["label"]: "(W + T/2) / n: a tie counts half; Wilson 95%",
                "LC win rate": lc["label"],
            },
        )
        tiles(
            [
                ("mean diff A - B", c["mean_difference"]),
                ("sign test p", fmt_p(c["sign_test_p"])),
            ]
        )
        rows = [
            ("win rate (W+T/2)/n", c["win_rate"], c["a"]),
            ("decisive win rate W/(W+L)", c["decisive_win_rate"], c["a"]),
            ("length-controlled win rate", lc["lc_win_rate"], "longer"),
        ]
        ui.chart(dc.interval_chart(dc.interval_frame(rows), f"{c['a']} against {c['b']}"))
    st.stop()

length, cal = d["length"], d["calibration"]
ui.headline_row(
    [*d["headlines"], headline("mean gap", d["gap_mean"], chance=None)],
    help={
        "accuracy": "share of pairs with gap > 0 (a gap of 0 counts wrong); verdicts compare "
        "the interval with chance (0.5) and the better length baseline on the same pairs",
        "AUC": "P(chosen score > rejected score) over all chosen x rejected; chance is 0.5",
    },
)
st.caption(f"{d['n']} pairs")
headline = [
    ("accuracy", d["accuracy"], "chosen"),
    ("AUC", d["auc"], "chosen"),
    ("accuracy, chosen longer", length["chosen_longer"], "longer"),
    ("accuracy, chosen shorter", length["chosen_shorter"], "shorter"),
    ("length-balanced accuracy", length["length_balanced_accuracy"], "chosen"),
    ("baseline: longer wins", length["longer_wins_baseline"], "longer"),
    ("baseline: shorter wins", length["shorter_wins_baseline"], "shorter"),
]
ui.chart(dc.interval_chart(dc.interval_frame(headline), "Headline numbers with 95% intervals"))
categories = [(str(c["category"] or "(none)"), c["accuracy"], "chosen") for c in d["by_category"]]
if categories:
    ui.chart(dc.interval_chart(dc.interval_frame(categories), "Accuracy by category"))
else:
    st.text("No categories in this dataset.")

st.subheader("Length control")
st.caption(f"{length['label']}; source: {length.get('source', '')}")
tiles(
    [
        ("length-balanced accuracy", length["length_balanced_accuracy"]),
        ("longer-wins baseline", length["longer_wins_baseline"]),
        ("Spearman(gap, length diff)", num(length["spearman_gap_length_diff"])),
    ]
)
ui.chart(
    dc.length_bins_chart(
        dc.length_bins_frame(length),
        length["longer_wins_baseline"]["value"],
        length["shorter_wins_baseline"]["value"],
        length["unit"],
    )
)

st.subheader("Calibration")
st.caption(cal["label"])
cal_tiles = [("ECE", num(cal["ece"])), ("Brier", num(cal["brier"])), ("NLL", num(cal["nll"]))]
if cal["temperature"] is not None:
    cal_tiles += [
        ("temperature", num(cal["temperature"])),
        ("ECE after temperature", num(cal["ece_after_temperature"])),
    ]
ui.metric_row(cal_tiles)
if cal["temperature"] is None:  # a fit at its bound is named; no after-temperature numbers
    st.warning(f"Temperature: {cal.get('temperature_fit') or 'not fitted'}.")
ui.chart(dc.reliability_chart(dc.reliability_frame(cal)))

st.subheader("Paired comparison")
# Only runs on the same pairs are offered; the before/after partner comes first.
options = dd.comparison_options(url, run["id"], f"{stamp}:{len(runs)}")
by_id = {r["id"]: r for r in runs}
others = [by_id[i] for i in options["comparable"] if i in by_id]
partner = options["partner"]
if not others:
    st.text(
        f"No other score run on the same pairs ({run.get('dataset')}, split "
        f"{run.get('split') or 'all'}) to compare with."
    )
else:
    if st.session_state.get("diag_against_of") != run["id"]:  # a new run: its partner
        st.session_state.pop("diag_against", None)
        st.session_state["diag_against_of"] = run["id"]
    other = ui.pick_run(
        "Compare with (run a; this run is b): runs on the same pairs",
        others,
        key="diag_against",
        default_id=partner["run"] if partner else others[0]["id"],
        help="by default the other half of a training run's before/after pair",
    )
    p = dd.paired(url, other["id"], run["id"], stamp + frames.run_stamp(other))
    f = p["flips"]
    tiles(
        [
            ("shared pairs", str(p["n"])),
            ("accuracy b - a", p["difference"]),
            ("McNemar p", fmt_p(p["mcnemar_p"])),
        ]
    )
    ui.metric_row(
        [
            ("flips wrong->right / right->wrong", f"{f['wrong_to_right']} / {f['right_to_wrong']}"),
            ("Kendall tau", num(p["kendall_tau"])),
            ("Spearman", num(p["spearman"])),
        ]
    )
    flip_links = [
        f"[{f[key]} {label}]({cases_link(run=run['id'], against=other['id'], flip=key)})"
        for key, label in FLIPS.items()
    ]
    st.markdown("Open the flipped pairs in Cases: " + " · ".join(flip_links))
    st.caption(
        f"Left out: {p['left_out']['only_a']} pairs only in run {other['id']}, "
        f"{p['left_out']['only_b']} only in run {run['id']}."
    )
    points = dd.paired_points(url, other["id"], run["id"], stamp + frames.run_stamp(other))
    pf = dc.paired_frame(points)
    ui.chart(dc.paired_scatter_chart(frames.thin(pf, MAX_POINTS), f"run {other['id']}", "this run"))
    # The flipped pairs with their texts and both gaps (the same rows Cases lists).
    gap_a = dict(zip(pf["pair_id"], pf["gap_a"], strict=True))
    rows = []
    for key, label in FLIPS.items():
        found = data.cases(
            url,
            run["id"],
            stamp + frames.run_stamp(other),
            against=other["id"],
            flip=key,
            limit=LINKED_FLIPS,
        )
        for item in found["items"]:
            rows.append(
                {
                    "pair_id": item["pair_id"],
                    "flip": label,
                    f"gap, run {other['id']}": gap_a.get(item["pair_id"]),
                    "gap, this run": item["gap"],
                    "category": item["category"],
                    "prompt": item["prompt"],
                    "chosen": item["chosen"],
                    "rejected": item["rejected"],
                    "open": cases_link(run=run["id"], case=item["pair_id"]),
                }
            )
    if rows:
        st.dataframe(
            pd.DataFrame(rows),
            column_config=TEXT_COLUMNS | {"open": st.column_config.LinkColumn("open in Cases")},
            hide_index=True,
            key="diag_flips",
        )

st.subheader("Slices")
slices_view.slices_section(url, run, stamp, other["id"] if others else None)

st.subheader("Most confidently wrong pairs")
wrong = dd.confidently_wrong(url, run["id"], stamp, 20)
if wrong:
    n_wrong = data.cases(url, run["id"], stamp, max_gap=0.0, limit=1)["total"]
    st.markdown(
        f"The {len(wrong)} most confident of [{n_wrong} wrong pairs (gap <= 0)]"
        f"({cases_link(run=run['id'], max_gap=0.0, sort='gap_asc')}) (all of them in Cases)."
    )
    columns = ["pair_id", "gap", "p_chosen", "category", "prompt", "chosen", "rejected"]
    table = pd.DataFrame(wrong)[columns + ["score_chosen", "score_rejected"]]
    table["open"] = [cases_link(run=run["id"], case=pid) for pid in table["pair_id"]]
    st.dataframe(
        table,
        column_config=TEXT_COLUMNS | {"open": st.column_config.LinkColumn("open in Cases")},
        hide_index=True,
        key="diag_wrong",
    )
else:
    st.text("This run gets every pair right.")
