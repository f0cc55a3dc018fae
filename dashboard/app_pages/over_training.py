"""Over training and over sampling. A checkpoint series (``train-rm --eval-every`` or
``score --model A --model B``): held-out accuracy with Wilson bands, AUC, gap mean and
ECE per step beside the training curves, the best step against the last, pairs learned
and forgotten per step (each count opens those pairs in Cases), gap trajectories of
chosen pairs and the pairs that flip more than once. A best-of-N run (``preflens bon``):
proxy and gold reward of the proxy's best-of-k pick against k with the gold peak marked,
the answer length beside it, and the pick beside a random sample per prompt."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, curves, data, frames, ui
from dashboard import over_charts as oc
from dashboard import over_data as od
from dashboard.cases_bon import bon_cases_link
from dashboard.state import cases_link
from preflens.headline import headline

st.title("Over training")
url = ui.store_url()
series_tab, bon_tab = st.tabs(["Checkpoint series", "Best-of-N"])


def _p(p: float | None) -> str:
    return "n/a" if p is None else f"{p:.2e}"


def show_series() -> None:
    candidates = ui.runs_of(url, "train_rm", "train_dpo", "series")
    with_points = [r for r in candidates if len(od.points(url, r["id"], frames.run_stamp(r))) > 1]
    if not with_points:
        st.info(
            "No checkpoint series yet: `preflens train-rm --eval-every N` scores a checkpoint "
            "every N steps; `preflens score --model CKPT_A --model CKPT_B` (or a folder of "
            "checkpoint-* folders) scores an existing series."
        )
        return
    run = ui.pick_run("Series", with_points, key="over_run", default_id=with_points[0]["id"])
    stamp = frames.run_stamp(run)
    s = od.run_series(url, run["id"], stamp, None)
    pts = s["points"]
    st.caption(
        f"{len(pts)} points on the {s['n_pairs']} eval pairs every point scored (step 0: "
        "the untrained head). Accuracy counts a tie as wrong; bands are 95% intervals "
        "(Wilson for accuracy, bootstrap over pairs for AUC and gap mean)."
    )
    best = s["best"]
    if best:
        last = pts[-1]
        lvb = best["last_vs_best"]
        by_step = {p["step"]: p for p in pts}
        cols = st.columns(3)
        with cols[0]:
            ui.headline_tile(
                headline(
                    f"accuracy at the best step ({best['step']})", by_step[best["step"]]["accuracy"]
                ),
                pct=True,
            )
        with cols[1]:
            ui.headline_tile(
                headline(f"accuracy at the last step ({last['step']})", last["accuracy"]), pct=True
            )
        with cols[2]:
            ui.headline_tile(
                # A short label: a long one was cut in a third of a 1024 px page.
                headline("last - best", lvb["difference"], chance=None),
                help="accuracy of the last step minus the best one on the same pairs "
                "(interval: paired bootstrap 95%)",
            )
            st.caption(
                f"McNemar exact p {_p(lvb['mcnemar_p'])}: {lvb['learned']} pairs learned and "
                f"{lvb['forgotten']} forgotten from the best step to the last"
            )
    left, right = st.columns(2)
    with left:
        ui.chart(
            oc.band_chart(
                oc.interval_frame(pts, "accuracy"),
                title="Held-out accuracy per step (Wilson 95%)",
                y_title="accuracy",
                reference=("chance", 0.5),
            )
        )
        ui.chart(
            oc.band_chart(
                oc.interval_frame(pts, "gap_mean"),
                title="Mean gap per step (bootstrap 95%)",
                y_title="mean gap (chosen - rejected)",
                reference=("zero", 0.0),
            )
        )
    with right:
        ui.chart(
            oc.band_chart(
                oc.interval_frame(pts, "auc"),
                title="AUC per step (bootstrap 95%, pairs resampled)",
                y_title="AUC",
                reference=("chance", 0.5),
            )
        )
        ece = oc.plain_frame(pts, "ece").assign(low=None, high=None, method="no interval")
        ui.chart(oc.band_chart(ece, title="ECE per step (10 bins, both orderings)", y_title="ECE"))
    if run["kind"] != "series":
        show_training_curves(run)
    st.subheader("Learned and forgotten")
    ui.chart(oc.changes_chart(oc.changes_frame(pts)))
    for prev, p in zip(pts, pts[1:], strict=False):
        vs = p["vs_previous"]
        learned = cases_link(run=p["run_id"], against=prev["run_id"], flip="wrong_to_right")
        forgot = cases_link(run=p["run_id"], against=prev["run_id"], flip="right_to_wrong")
        st.markdown(
            f"step {prev['step']} -> {p['step']}: [{vs['learned']} learned]({learned}), "
            f"[{vs['forgotten']} forgotten]({forgot}); McNemar exact p {_p(vs['mcnemar_p'])}"
        )
    st.subheader("Pairs that flip more than once")
    osc = s["oscillating"]
    st.caption(
        f"{osc['count']} pairs changed between right and wrong more than once along the "
        "series (a tie counts as wrong)."
    )
    if osc["count"]:
        st.dataframe(
            {"pair id": osc["pair_ids"], "changes": osc["changes"]}, hide_index=True, key="osc"
        )
    st.subheader("Gap trajectories")
    default = tuple(osc["pair_ids"][:8])
    picked = st.multiselect(
        "Pairs (ids)",
        osc["pair_ids"] or [],
        default=list(default),
        key="over_pairs",
        help="oscillating pairs are offered; each opens in Cases below",
    )
    if picked:
        traj = od.run_series(url, run["id"], stamp, tuple(picked))["trajectories"]
        event = st.altair_chart(
            charts.wrap_title(oc.trajectory_chart(oc.trajectory_frame(s["steps"], traj))),
            width="stretch",
            on_select="rerun",
            key="over_traj",
        )
        last_run = pts[-1]["run_id"]
        clicked = [p.get("pair_id") for p in (event.selection.get("pair") or [])] if event else []
        if clicked and clicked[0] is not None:
            pid = int(clicked[0])
            st.markdown(
                f"Clicked pair {pid}: [open it in Cases]({cases_link(run=last_run, case=pid)}) "
                "(the last step's scores)"
            )
        else:
            st.caption("Click a point to get a link to that pair in Cases.")
        st.markdown(
            "Open in Cases (last step's scores): "
            + ", ".join(f"[pair {pid}]({cases_link(run=last_run, case=pid)})" for pid in picked)
        )


def show_training_curves(run: dict) -> None:
    label = f"#{run['id']} {run['kind']}"
    result = data.metrics(url, (run["id"],), (frames.run_stamp(run),))
    df = frames.metrics_frame(result, {run["id"]: label})
    if df.empty:
        return
    drawn = curves.training_curves(df, {label: run})[:2]
    st.caption("The training curves of the same run (train: a mean per logging window).")
    for col, curve in zip(st.columns(2), drawn, strict=False):
        with col:
            ui.chart(
                charts.metric_chart(
                    curve.rows, title=curve.title, y_title=curve.y_title, reference=curve.reference
                )
            )


def show_bon() -> None:
    bon_runs = ui.runs_of(url, "bon")
    if not bon_runs:
        st.info(
            "No best-of-N run yet: `preflens bon --policy NAME=MODEL --rm PROXY "
            "[--gold-rm GOLD] --dataset D --n 16` makes one."
        )
        return
    run = ui.pick_run("Best-of-N run", bon_runs, key="bon_run", default_id=bon_runs[0]["id"])
    b = od.run_bon(url, run["id"], frames.run_stamp(run))
    if not b["ks"]:
        st.info("No prompt has all its answers scored yet.")
        return
    st.caption(
        f"{b['prompts']} prompts x N={b['n']} answers of policy {b.get('policy')}. Each "
        "point is the expected value of the proxy's best-of-k pick over every k-subset of "
        "the N answers (proxy ties picked at random), averaged over prompts; bands are "
        "bootstrap 95% intervals over prompts. KL(best-of-k) = log k - (k-1)/k nats."
    )
    names = ("proxy", "gold") if "gold" in b["curves"] else ("proxy",)
    left, right = st.columns(2)
    with left:
        ui.chart(oc.bon_chart(oc.bon_frame(b, names), b.get("gold_peak")))
        peak = b.get("gold_peak")
        if peak:
            st.caption(
                f"Gold reward peaks at k={peak['k']} (KL {peak['kl']:.3f} nats)."
                if peak["k"] < b["ks"][-1]
                else "Gold reward is highest at the largest k: no over-optimisation seen."
            )
        elif "gold" not in b["curves"]:
            st.caption("No gold RM: the proxy curve and the answer length are shown.")
    with right:
        length = oc.bon_frame(b, ("length",))
        ui.chart(
            oc.band_chart(
                length,
                title="Generated tokens of the pick (bootstrap 95%)",
                y_title="generated tokens",
                x="k",
                x_title="k (best of k, log scale)",
                log_x=True,
            )
        )
    st.subheader("The best-of-N pick beside a random sample")
    st.markdown(f"[Open these prompts in Cases]({bon_cases_link(run['id'])})")
    for pick in b["picks"]:
        with st.expander(f"pair {pick['pair_id']}: {pick['prompt'][:80]}"):
            cols = st.columns(2)
            for col, side, title in (
                (cols[0], pick["best"], "best of N (proxy)"),
                (cols[1], pick["random"], "random sample (#0)"),
            ):
                with col:
                    gold = "" if side["gold"] is None else f", gold {side['gold']:.3f}"
                    st.caption(
                        f"{title}: sample #{side['sample']}, proxy {side['proxy']:.3f}{gold}, "
                        f"{side['tokens']:.0f} generated tokens"
                    )
                    ui.model_text(side["text"])


with series_tab:
    show_series()
with bon_tab:
    show_bon()
