"""Cases in best-of-N mode (URL ``cases?bon=RUN``): per prompt of a ``bon`` run, the
proxy's best-of-N answer beside a random sample of the same policy (sample #0: the N
samples are drawn independently with the run's seed, so #0 is a seeded random draw),
each with its proxy and gold score and generated tokens, as ``db.read.bon.bon_summary``
returns them (``GET /v1/runs/{id}/bon``'s ``picks``). Model text is shown as text.
``case=PAIR`` in the URL opens that prompt."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import streamlit as st

from dashboard import frames, over_data, ui
from dashboard.frames import md_escape

BON_PARAM = "bon"


def bon_cases_link(run_id: int, case: int | None = None) -> str:
    """A relative link to Cases in best-of-N mode for run ``run_id`` (``case``: one prompt)."""
    params: dict[str, Any] = {BON_PARAM: run_id}
    if case is not None:
        params["case"] = case
    return "cases?" + urlencode(params)


def wanted(params: Mapping[str, Any]) -> bool:
    """Whether the Cases URL asks for best-of-N mode."""
    return BON_PARAM in params


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def _side(side: dict[str, Any], title: str) -> None:
    gold = "" if side["gold"] is None else f", gold RM {side['gold']:.3f}"
    st.caption(
        f"{title}: sample #{side['sample']}, proxy RM {side['proxy']:.3f}{gold}, "
        f"{side['tokens']:.0f} generated tokens"
    )
    ui.model_text(side["text"])


def show(url: str, params: Mapping[str, Any]) -> None:
    """The best-of-N mode of the Cases page; keeps ``bon`` (and ``case``) in the URL."""
    runs = ui.runs_of(url, "bon")
    ui.need(bool(runs), "No best-of-N run yet: `preflens bon ...` makes one.")
    asked = _int(params.get(BON_PARAM))
    by_id = {r["id"]: r for r in runs}
    if asked is not None and asked not in by_id:
        st.warning(f"Run {params.get(BON_PARAM)} is not a best-of-N run; showing the newest.")
    run = ui.pick_run(
        "Best-of-N run",
        runs,
        key="cases_bon_run",
        default_id=asked if asked in by_id else runs[0]["id"],
    )
    case = _int(params.get("case")) if str(run["id"]) == str(params.get(BON_PARAM)) else None
    wanted_params = {BON_PARAM: str(run["id"])} | ({"case": str(case)} if case else {})
    if st.query_params.to_dict() != wanted_params:
        st.query_params.from_dict(wanted_params)
    b = over_data.run_bon(url, run["id"], frames.run_stamp(run))
    picks = b.get("picks") or []
    if not picks:
        st.info("No prompt has all its answers scored yet.")
        return
    gold = "gold RM" if "gold" in (b.get("curves") or {}) else "no gold RM"
    st.caption(
        f"{len(picks)} of {b['prompts']} prompts, N={b['n']} answers each of policy "
        f"{md_escape(str(b.get('policy')))} ({gold}). Left: the answer the proxy RM scores "
        "highest (the first on a tie); right: sample #0, a seeded random draw of the same "
        "policy. Scores are the RMs' raw rewards."
    )
    for pick in picks:
        title = f"pair {pick['pair_id']}: {md_escape(pick['prompt'][:80])}"
        with st.expander(title, expanded=pick["pair_id"] == case):
            st.caption("prompt")
            ui.model_text(pick["prompt"], preview=True)
            left, right = st.columns(2)
            with left:
                _side(pick["best"], "best of N (proxy's pick)")
            with right:
                _side(pick["random"], "random sample")
            st.markdown(f"[link to this prompt]({bon_cases_link(run['id'], pick['pair_id'])})")
