"""Policies: a generation comparison (policy A against policy B, scored by one reward
model): scatter with the y = x line, histogram of the difference, CDFs, box plots,
wins / ties / losses and win rate, lengths, length against score and the length-score
correlations; answers cut at the length limit are marked, and a warning comes before the
win rate when most of them were. A point of the scatter opens that prompt's answers."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, data, frames, tables, ui
from dashboard import diagnostic_data as dd
from dashboard.frames import fmt, fmt_signed, md_escape
from dashboard.state import cases_link
from preflens.headline import headline
from preflens.uncertainty import proportion

MAX_POINTS = 5000  # points drawn per chart; the numbers use every prompt

st.title("Policies")
url = ui.store_url()
gen_runs = ui.runs_of(url, "score_generations")
ui.need(
    bool(gen_runs),
    "No generation comparisons yet: `preflens generate --policy base=... --policy dpo=...` "
    "then `preflens score-generations --rm RM --run G`.",
)
run = ui.pick_run(
    "Generation comparison",
    gen_runs,
    key="pol_run",
    default_id=ui.first_done(gen_runs),
    help="a score_generations run: every policy's answers scored by one reward model",
)
stamp = frames.run_stamp(run)
summary = data.run_summary(url, run["id"], stamp)
comparisons = summary.get("comparisons") or []
ui.need(bool(comparisons), "This run has answers of fewer than two policies so far.")
labels = [f"{c['a']} (A) vs {c['b']} (B)" for c in comparisons]
index = st.selectbox(
    "Comparison", range(len(comparisons)), format_func=lambda i: labels[i], key="pol_cmp"
)
cmp = comparisons[index]
a, b = cmp["a"], cmp["b"]
pa, pb = summary["policies"][a], summary["policies"][b]


def max_new_tokens() -> int | None:
    """The generation run's token limit (its config), when recorded."""
    parent = next((r for r in data.runs(url) if r["id"] == run.get("parent_run_id")), None)
    limit = ((parent or {}).get("config") or {}).get("max_new_tokens")
    return int(limit) if isinstance(limit, int | float) else None


# Before any number: answers cut at the token limit are unfinished, and a win rate over
# mostly unfinished answers says more about the limit than about the policies.
n_prompts = summary.get("n") or cmp["n"]
cut_counts = {name: int(summary["policies"][name].get("cut_at_limit") or 0) for name in (a, b)}
if n_prompts and any(2 * c > n_prompts for c in cut_counts.values()):
    limit = max_new_tokens()
    at_limit = f"the {limit}-token limit" if limit else "the token limit (max_new_tokens)"
    counts = ", ".join(f"{md_escape(k)} {v} of {n_prompts}" for k, v in cut_counts.items())
    link = cases_link(run=run["id"], a=a, b=b, cut=True)
    st.warning(
        f"**Most answers were cut at {at_limit}**: {counts} answers stopped there "
        "unfinished. The scores and the win rate below compare cut-off answers; generate "
        f"again with a larger limit before reading them. [Open the cut answers]({link})",
        icon=":material/content_cut:",
    )

# The headline: A's win rate with its 95% interval and verdicts (chance, most answers cut).
win = {**dd.headlines(url, run["id"], stamp)[index], "label": "win rate"}
decisive = headline("decisive win rate", proportion(cmp["wins"], cmp["wins"] + cmp["losses"]))
ui.headline_row(
    [win, decisive],
    pct=True,
    help={
        "win rate": "(wins + ties / 2) / prompts: a tie counts half. A win is A - B > "
        f"{cmp['tie_margin']} (the tie margin); identical answers are ties. Wilson 95%",
        "decisive win rate": "wins / (wins + losses): ties left out. Wilson 95%",
    },
)
ui.metric_row(
    [
        ("prompts", str(cmp["n"])),
        ("mean diff (A - B)", fmt_signed(cmp["mean_diff"])),
        ("wins / ties / losses", f"{cmp['wins']} / {cmp['ties']} / {cmp['losses']}"),
    ],
    help={"mean diff (A - B)": "mean over the prompts both policies answered"},
)
ui.metric_row(
    [
        ("A mean", fmt(pa["mean"])),
        ("A std", fmt(pa["std"])),
        ("B mean", fmt(pb["mean"])),
        ("B std", fmt(pb["std"])),
    ]
)
st.text(f"A = {a}    B = {b}")
ui.chart(charts.wins_chart(frames.wins_frame(cmp)))

scatter = data.scatter(url, run["id"], stamp, a, b)
points = frames.scatter_frame(scatter)
shown = frames.thin(points, MAX_POINTS)
tie = pd.DataFrame({"label": ["tie"], "x": [0.0]})
col1, col2 = st.columns(2)
with col1:
    event = st.altair_chart(
        charts.wrap_title(
            charts.scatter_chart(shown, a=a, b=b, title="Score per prompt: above y = x, A wins")
        ),
        width="stretch",
        on_select="rerun",
        key="pol_scatter",
    )
    st.caption(
        "Click a point to read that prompt's answers."
        + (f" Drawing {len(shown)} of {len(points)} prompts." if len(shown) < len(points) else "")
    )
with col2:
    diff = data.histogram(url, run["id"], stamp, "gap", 30, a=a, b=b)
    ui.chart(
        charts.histogram_chart(
            frames.hist_frame(diff, f"{a} - {b}"),
            title="Difference A - B per prompt",
            x_title="score difference",
            rules=tie,
        )
    )
picked = [p.get("pair_id") for p in (event.selection.get("pair") or [])] if event else []
if picked and picked[0] is not None:
    pair_id = int(picked[0])
    full = data.case(url, run["id"], pair_id, a, b)
    answers = {g["policy"]: g for g in full["generations"]}
    with st.container(border=True):
        st.subheader(f"Prompt {pair_id}: both answers")
        for message in full["pair"]["prompt"]:
            st.caption(md_escape(message.get("role", "")))
            ui.model_text(message.get("content", ""))
        left, right = st.columns(2)
        for col, role, name in ((left, "A", a), (right, "B", b)):
            g = answers[name]
            notes = ["cut at the length limit"] if g["finish_reason"] == "length" else []
            with col:
                ui.side_header(
                    f"{name} ({role})", g["score"], g["n_tokens"], notes, unit=ui.GENERATED_TOKENS
                )
                ui.model_text(g["text"])
        st.markdown(f"[Open in Cases]({cases_link(run=run['id'], a=a, b=b, case=pair_id)})")
col1, col2 = st.columns(2)
with col1:
    cdf = pd.concat(
        frames.cdf_frame(data.cdf(url, run["id"], stamp, "score", policy=p), p) for p in (a, b)
    )
    ui.chart(charts.cdf_chart(cdf, title="CDF of each policy's scores"))
with col2:
    box = frames.box_frame((p, data.box(url, run["id"], stamp, "score", policy=p)) for p in (a, b))
    ui.chart(charts.box_chart(box, title="Box plots of each policy's scores"))

st.subheader("Length")
table = frames.policy_table(summary)
tables.fitted_table(
    table,
    "pol_table",
    ["policy", "n", "mean", "mean_tokens", "cut_at_limit"],
    column_config={
        "cut_at_limit": st.column_config.NumberColumn(
            "cut at limit", help="answers that hit max_new_tokens (finish reason: length)"
        )
    },
)
lengths = frames.thin(frames.length_frame(scatter), 2 * MAX_POINTS)
ui.chart(
    charts.length_chart(lengths, title="Length against score (crosses: cut at the length limit)")
)
st.caption(
    "Pearson and Spearman correlations of length (characters) with score per policy are in "
    "the table above (all columns); a strong positive one suggests the reward model rewards "
    "length."
)
