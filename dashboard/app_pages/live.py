"""Live scoring: a prompt and one or two responses scored by the backend's reward model
(``POST /v1/score`` or ``/v1/compare``): the score(s), the gap and P(A preferred), and
where each score falls on a chosen run's histogram. Says clearly when the backend is
not reachable."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import charts, data, frames, probe_charts, ui
from dashboard.api_client import BackendError, BackendUnreachable, client_from_settings
from dashboard.frames import fmt, fmt_signed, md_escape

st.title("Live scoring")
client = client_from_settings()
backend_ok = False
try:
    client.health()
    backend_ok = True
except BackendUnreachable as exc:
    st.error(f"Backend not reachable: {exc}.")
if backend_ok:
    try:
        loaded = client.models().get("reward_model")
    except BackendError as exc:
        st.error(f"The backend at {client.base_url} refused: {exc}.")
        loaded = None
    st.session_state["live_rm"] = loaded or {}
    if loaded:
        st.caption(f"Reward model of the backend at {client.base_url}:")
        st.text(str(loaded.get("name", "")))
        if loaded.get("head_initialized"):
            st.warning(
                "This reward model's head is untrained (initialised from a seed): its scores "
                "are noise, and so are P(A preferred) and the percentiles below."
            )
    else:
        st.warning(
            "The backend has no reward model loaded: start it with `preflens serve --rm MODEL`."
        )

url = data.database_url()
problem = data.store_problem(url)
runs = [] if problem else ui.runs_of(url, "score", "score_generations")
if problem:
    st.warning(f"No histogram to mark: {problem}")

with st.form("live_form"):
    prompt = st.text_area("Prompt", key="live_prompt", height=100)
    col1, col2 = st.columns(2)
    response_a = col1.text_area("Response A", key="live_a", height=140)
    response_b = col2.text_area("Response B (optional)", key="live_b", height=140)
    run = None
    if runs:
        run = ui.pick_run(
            "Mark the scores on the histogram of",
            runs,
            key="live_run",
            default_id=ui.first_done(runs),
            help="best a run scored by the same reward model as the backend's",
        )
    per_token = st.checkbox(
        "Token heatmap", key="live_tokens", help="the reward head's value at every token"
    )
    submitted = st.form_submit_button("Score", type="primary")

if submitted:
    if not prompt.strip() or not response_a.strip():
        st.warning("Write a prompt and at least response A.")
    else:
        try:
            if response_b.strip():
                # Percentiles come from this store (below), not the backend's: the two may
                # be different stores, and the histogram drawn is this one's.
                body = client.compare(prompt, response_a, response_b)
            else:
                body = client.score(prompt, response_a)
            tokens = None
            if per_token:
                named = {"A": response_a} | ({"B": response_b} if response_b.strip() else {})
                values = client.token_values(prompt, list(named.values()))
                tokens = dict(zip(named, values, strict=True))
            st.session_state["live_result"] = {
                "body": body,
                "run": run["id"] if run else None,
                "tokens": tokens,
            }
        except BackendUnreachable as exc:
            st.error(f"Backend not reachable: {exc}.")
        except BackendError as exc:
            st.error(f"Scoring failed: {exc}.")


def marked_histogram(run: dict[str, Any], marks: dict[str, float]) -> None:
    """The run's score histograms (chosen / rejected, or one per policy) on shared bins,
    with a line at each live score."""
    stamp = frames.run_stamp(run)
    if run["kind"] == "score":
        series = [(side, {"side": side}) for side in ("chosen", "rejected")]
    else:
        policies = list((data.run_summary(url, run["id"], stamp).get("policies") or {}).keys())
        series = [(p, {"side": "score", "policy": p}) for p in policies]
    boxes = [data.box(url, run["id"], stamp, **kw) for _, kw in series]
    span = frames.common_range(boxes)
    if span is None:
        st.text("That run has no scores yet.")
        return
    hist = pd.concat(
        frames.hist_frame(
            data.histogram(url, run["id"], stamp, bins=40, lo=span[0], hi=span[1], **kw), name
        )
        for name, kw in series
    )
    rules = pd.DataFrame({"label": list(marks), "x": list(marks.values())})
    ui.chart(
        charts.histogram_chart(
            hist, rules=rules, title=f"Live scores on the scores of {frames.run_label(run)}"
        )
    )


result = st.session_state.get("live_result")
if result:
    body = result["body"]
    by_id = {r["id"]: r for r in runs}
    marked = by_id.get(result["run"])

    def percentile(score: float) -> float | None:
        """Where ``score`` falls among the marked run's scores (0-100, ties half)."""
        if marked is None:
            return None
        return data.percentile(url, marked["id"], frames.run_stamp(marked), score)

    st.subheader("Result")
    if "score_a" in body:
        ui.metric_row(
            [
                ("score A", fmt(body["score_a"], 4)),
                ("score B", fmt(body["score_b"], 4)),
                ("gap (A - B)", fmt_signed(body["gap"], 4)),
                ("P(A preferred)", fmt(body["p_a_preferred"])),
            ],
            help={"P(A preferred)": "sigmoid(score A - score B), the Bradley-Terry model"},
        )
        details = pd.DataFrame(
            {
                "response": ["A", "B"],
                "score": [body["score_a"], body["score_b"]],
                "conversation tokens (as scored)": [body["n_tokens_a"], body["n_tokens_b"]],
                "truncated": [body["truncated_a"], body["truncated_b"]],
                "percentile in run": [percentile(body["score_a"]), percentile(body["score_b"])],
            }
        )
        marks = {"A": body["score_a"], "B": body["score_b"]}
    else:
        ui.metric_row([("score A", fmt(body["score"], 4))])
        details = pd.DataFrame(
            {
                "response": ["A"],
                "score": [body["score"]],
                "conversation tokens (as scored)": [body["n_tokens"]],
                "truncated": [body["truncated"]],
                "percentile in run": [percentile(body["score"])],
            }
        )
        marks = {"A": body["score"]}
    st.dataframe(details, hide_index=True, key="live_details")
    st.caption(
        f"Scored by {md_escape(body.get('model', '?'))}. Percentile: where the score falls among "
        "the run's scores (both sides of a score run), ties counting half."
    )
    if marked is not None:
        scorer = data.run_scorer(url, marked["id"])
        live_rm = st.session_state.get("live_rm") or {}
        mismatch = frames.scorer_mismatch(scorer, live_rm)
        if mismatch is None:
            st.caption(
                "The marked run was scored by this same reward model at the same max length "
                f"({scorer.get('max_length')} conversation tokens)."
            )
        else:
            st.warning(mismatch)
        marked_histogram(marked, marks)
    if result.get("tokens"):
        st.subheader("Reward at every token")
        frame = probe_charts.token_frame(result["tokens"])
        ui.chart(probe_charts.token_heatmap_chart(frame))
        st.caption(
            "The reward head's value at each token, reading only the text up to it, both "
            "responses on one colour scale; the last box (end of turn) is the score. A "
            "Bradley-Terry RM is trained only at that last token: earlier values show where "
            "the score moves, they are not rewards of the unfinished text."
        )
