"""Probes: what a reward model does when a response is edited (``preflens probe``), and
what a DPO policy did to each pair (``preflens score-dpo``).

Edits: ranked by mean score change (edited - original, 95% bootstrap interval) or by
flip rate (the share of pairs whose preference order flips, 95% Wilson), and any pair's
edited texts side by side. DPO: the change in log-prob of chosen vs rejected from the
reference, one point per pair ("both fell" is the lower-left quadrant), and the
agreement of the DPO implicit-reward gap with an RM's gap on the same pairs, the pairs
where they disagree one click from Cases. Reads go through ``db.read.probes`` (the
functions behind ``GET /v1/runs/{id}/probes`` and ``/dpo``)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st
from sqlalchemy.orm import Session

from dashboard import data, frames, probe_charts, tables, ui
from dashboard.frames import fmt, fmt_signed, md_escape
from dashboard.state import cases_link
from db.read import probes as reads
from preflens.headline import headline


@st.cache_data(ttl=data.TTL, max_entries=data.MAX_ENTRIES, show_spinner=False)
def _read(url: str, name: str, stamp: str, *args: Any) -> Any:
    """One ``db.read.probes`` function's result, cached per run state (``stamp``)."""
    with Session(data.engine(url)) as session:
        return getattr(reads, name)(session, *args)


def rate_text(item: dict[str, Any] | None) -> str:
    if not item or item.get("value") is None:
        return "n/a"
    return f"{item['value']:.0%} [{item['ci_low']:.0%}, {item['ci_high']:.0%}]"


st.title("Probes")
url = ui.store_url()
edits_tab, dpo_tab = st.tabs(["Counterfactual edits", "DPO per pair"])

# ------------------------------------------------------------------ counterfactual edits
with edits_tab:
    probe_runs = ui.runs_of(url, "probe")
    if not probe_runs:
        st.info("No probe runs yet: `preflens probe --model RM --dataset D --limit 50`.")
    else:
        run = ui.pick_run(
            "Probe run", probe_runs, key="probes_run", default_id=ui.first_done(probe_runs)
        )
        stamp = frames.run_stamp(run)
        order = st.radio(
            "Rank edits by",
            ["mean_change", "flip_rate"],
            format_func={"mean_change": "|mean change|", "flip_rate": "flip rate"}.get,
            horizontal=True,
            key="probes_order",
        )
        summary = _read(url, "probe_summary", stamp, run["id"], order)
        col1, col2, col3 = st.columns(3)
        col1.metric("pairs probed", str(summary["pairs"]))
        original = summary["original_accuracy"] or {}
        if original.get("value") is None:
            col2.metric("original accuracy", "n/a")
        else:  # the interval under the value: in the tile it was cut in a narrow column
            col2.metric("original accuracy", f"{original['value']:.0%}")
            col2.caption(f"95% [{original['ci_low']:.0%}, {original['ci_high']:.0%}] · Wilson")
        col3.metric("original ties", str(summary["original_ties"]))
        table = pd.DataFrame(
            [
                {
                    "edit": e["edit"],
                    "mean change": e["mean_change"]["value"],
                    "95% CI low": e["mean_change"]["ci_low"],
                    "95% CI high": e["mean_change"]["ci_high"],
                    "flips if chosen edited": rate_text(e["flip_rate_chosen"]),
                    "flips if rejected edited": rate_text(e["flip_rate_rejected"]),
                    # Last: the long text must not push the flip rates off the page.
                    "what it does": e["description"],
                }
                for e in summary["edits"]
            ]
        )
        tables.fitted_table(
            table,
            "probes_table",
            ["edit", "mean change", "flips if chosen edited", "flips if rejected edited"],
            column_config={
                c: st.column_config.NumberColumn(c, format="%+.4f", width="small")
                for c in ("mean change", "95% CI low", "95% CI high")
            },
        )
        st.caption(
            "Mean change: edited minus original score, the two sides averaged per pair, with "
            "a 95% bootstrap interval over pairs. A flip: the sign of chosen - rejected "
            "changes when that side is edited (a tie never flips); 95% Wilson intervals."
        )
        change, flips = probe_charts.edit_frames(summary)
        if not change.empty:
            left, right = st.columns(2)
            with left:
                ui.chart(probe_charts.edit_change_chart(change))
            with right:
                ui.chart(probe_charts.flip_rate_chart(flips))

        st.subheader("One pair, every edit")
        names = [e["edit"] for e in summary["edits"]]
        only = st.selectbox(
            "Pairs",
            [None, *names],
            key="probes_flip_filter",
            format_func=lambda n: "all pairs" if n is None else f"order flips under {n}",
        )
        ids = _read(url, "probe_pair_ids", stamp, run["id"], only)
        if not ids:
            st.info("No pair matches.")
        else:
            pair_id = st.selectbox("Pair", ids, key="probes_pair")
            pair = _read(url, "probe_pair", stamp, run["id"], pair_id)
            st.caption("Prompt")
            for message in pair["prompt"]:
                st.caption(md_escape(message.get("role", "")))
                ui.model_text(message.get("content", ""))
            for item in pair["edits"]:
                flags = [
                    f"flips when {side} is edited"
                    for side in ("chosen", "rejected")
                    if item.get(f"flips_{side}")
                ]
                with st.expander(f"{item['edit']}" + (" · " + ", ".join(flags) if flags else ""),
                                 expanded=item["edit"] == "original" or bool(flags)):  # fmt: skip
                    cols = st.columns(2)
                    for col, side in zip(cols, ("chosen", "rejected"), strict=True):
                        with col:
                            st.markdown(
                                f"**{side.capitalize()}** · score {fmt(item[f'{side}_score'], 4)}"
                                f" · change {fmt_signed(item[f'{side}_change'], 4)}"
                            )
                            ui.model_text(item[f"{side}_text"])

# ------------------------------------------------------------------ DPO per pair
with dpo_tab:
    dpo_runs = ui.runs_of(url, "score_dpo")
    if not dpo_runs:
        st.info("No score-dpo runs yet: `preflens score-dpo --policy P --reference R --dataset D`.")
    else:
        run = ui.pick_run(
            "score-dpo run", dpo_runs, key="probes_dpo_run", default_id=ui.first_done(dpo_runs)
        )
        stamp = frames.run_stamp(run)
        s = _read(url, "dpo_summary", stamp, run["id"])
        st.caption(f"Implicit reward: {s['reward']} (beta {s.get('beta')}).")
        if not s.get("pairs"):
            st.info("This run has no pairs scored yet.")
        else:
            # Headline tiles: each rate with its 95% interval under it (never cut short).
            ui.headline_row(
                [
                    headline("implicit-reward accuracy", s["accuracy"]),
                    headline("length-normalised accuracy", s["length_normalised_accuracy"]),
                ],
                pct=True,
                help={
                    "implicit-reward accuracy": "share of pairs with reward_chosen > "
                    "reward_rejected (ties count as wrong), 95% Wilson interval",
                },
            )
            st.caption(f"{s['pairs']} pairs")
            if not s["reference_free"]:
                ui.headline_row(
                    [
                        headline(name, s[key], chance=None)
                        for name, key in (
                            ("chosen fell", "chosen_fell"),
                            ("rejected fell", "rejected_fell"),
                            ("both fell", "both_fell"),
                        )
                    ],
                    pct=True,
                    help={
                        "chosen fell": "share of pairs whose chosen log-prob is below the "
                        "reference's"
                    },
                )
            points = pd.DataFrame(_read(url, "dpo_points", stamp, run["id"]))
            if s["reference_free"]:
                st.info("No reference is used in this run: there is no change in log-prob to plot.")
            else:
                points["quadrant"] = [
                    probe_charts.dpo_quadrant(c, r)
                    for c, r in zip(points["delta_chosen"], points["delta_rejected"], strict=True)
                ]
                st.subheader("Change in log-prob from the reference")
                ui.chart(probe_charts.dpo_delta_chart(points))
                st.caption(
                    "One point per pair: log pi - log ref summed over the response tokens. "
                    "Lower left: both the chosen and the rejected response became less likely."
                )

            st.subheader("Agreement with a reward model")
            # Only RM runs on the same pairs (dataset and split) are offered.
            pairs_of = (run.get("dataset_id"), run.get("split"))
            rm_runs = [
                r
                for r in ui.runs_of(url, "score")
                if (r.get("dataset_id"), r.get("split")) == pairs_of
            ]
            if not rm_runs:
                st.info("No RM score run on this dataset: `preflens score --model RM --dataset D`.")
            else:
                rm_run = ui.pick_run(
                    "RM score run", rm_runs, key="probes_rm_run", default_id=ui.first_done(rm_runs)
                )
                view = _read(
                    url, "agreement", stamp + frames.run_stamp(rm_run), run["id"], rm_run["id"], 50
                )
                q = view["quadrants"]
                # The rate on its own line with its interval underneath: six tiles in
                # one row cut "67% [39%, 86%]" to "67% [3…".
                agree = view["agreement"] or {}
                known = agree.get("value") is not None
                first, col, _ = st.columns(3)
                first.metric("pairs in both", str(view["pairs"]))
                col.metric("agree", f"{agree['value']:.0%}" if known else "n/a")
                if known:
                    col.caption(
                        f"95% [{agree['ci_low']:.0%}, {agree['ci_high']:.0%}] · "
                        f"n={agree.get('n', view['pairs'])} · Wilson"
                    )
                st.caption("Which of them prefer the chosen response:")
                ui.metric_row(
                    [
                        ("both", str(q["both_prefer_chosen"])),
                        ("only the RM", str(q["rm_only"])),
                        ("only DPO", str(q["dpo_only"])),
                        ("neither", str(q["neither"])),
                    ],
                    help={"both": "the RM and DPO both prefer the chosen response"},
                )
                if view["points"]:
                    gaps = pd.DataFrame(view["points"])
                    gaps["quadrant"] = [
                        probe_charts.agreement_label(a, b)
                        for a, b in zip(gaps["rm_gap"], gaps["dpo_gap"], strict=True)
                    ]
                    ui.chart(probe_charts.agreement_chart(gaps))
                st.caption(
                    f"Pearson {fmt(view['pearson'])}, Spearman {fmt(view['spearman'])} between "
                    "the gaps. A gap of 0 prefers neither side."
                )
                if view["disagreeing"]:
                    # The count opens exactly those pairs in Cases, with how many match.
                    every = cases_link(run=rm_run["id"], disagree=run["id"])
                    st.markdown(
                        f"[**{view['disagreeing_total']} pairs where they disagree**]({every}) "
                        "(all of them in Cases; below, largest |RM gap| first):"
                    )
                    for d in view["disagreeing"]:
                        link = cases_link(run=rm_run["id"], case=int(d["pair_id"]))
                        st.markdown(
                            f"[pair {int(d['pair_id'])}]({link}) · RM gap "
                            f"{fmt_signed(d['rm_gap'], 4)} · DPO gap {fmt_signed(d['dpo_gap'], 4)}"
                        )
