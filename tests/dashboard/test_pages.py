"""Every page through Streamlit's AppTest on a seeded store: no exception, and the numbers
shown are the ones db.read returns (the functions behind the API's JSON)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from dashboard.charts import CHOSEN_COLOR, REJECTED_COLOR
from dashboard.frames import fmt, fmt_pct, fmt_signed, run_label
from db import read
from tests.dashboard.seed import XSS_IMG, XSS_SCRIPT


# ------------------------------------------------------------------ helpers
def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def texts(at) -> list[str]:
    return [t.value for t in at.text]


def headline_tables(at) -> pd.DataFrame:
    """The Overview's headline tables (one per kind of run) as one frame."""
    tables = [t.value for t in at.table if {"run", "status"} <= set(t.value.columns)]
    return pd.concat(tables, ignore_index=True)


def frame_with(at, *columns: str) -> pd.DataFrame:
    for df in at.dataframe:
        if set(columns) <= set(df.value.columns):
            return df.value
    raise AssertionError(f"no table with columns {columns}")


def charts(at) -> list[tuple[dict, dict[str, pd.DataFrame]]]:
    """Each chart's Vega-Lite spec and its datasets (decoded from Arrow)."""
    from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df

    out = []
    for el in at.get("vega_lite_chart"):
        data = {d.name: convert_arrow_bytes_to_pandas_df(d.data.data) for d in el.proto.datasets}
        spec = json.loads(el.proto.spec)
        title = spec.get("title")
        if isinstance(title, dict) and isinstance(title.get("text"), list):
            spec["title"] = " ".join(title["text"])  # a long title is wrapped into lines
        out.append((spec, data))
    return out


def curve_rows(data: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The rows a training chart draws (not its reference line's)."""
    (rows,) = [d for d in data.values() if "run" in d.columns]
    return rows


def chart_titled(at, title: str) -> tuple[dict, dict[str, pd.DataFrame]]:
    for spec, data in charts(at):
        if spec.get("title") == title:
            return spec, data
    raise AssertionError(f"no chart titled {title!r}: {[s.get('title') for s, _ in charts(at)]}")


def rows_of(spec: dict, part: dict, data: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The rows a layer draws (its own data, else the chart's)."""
    return data[(part.get("data") or spec["data"])["name"]]


def layer(spec: dict, mark: str) -> dict:
    (part,) = [p for p in spec["layer"] if p["mark"]["type"] == mark]
    return part


def bars_of(spec: dict, data: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return rows_of(spec, layer(spec, "bar"), data)


# ------------------------------------------------------------------ overview
def test_overview_lists_datasets_runs_checkpoints_and_headline_numbers(store, dash, open_page):
    at = open_page("overview")
    with store() as s:
        datasets, runs = read.list_datasets(s), read.list_runs(s)
        summaries = {r["id"]: read.run_summary(s, r["id"]) for r in runs}
        checkpoints = read.list_checkpoints(s)
    shown = metrics(at)
    assert shown["pairs"] == str(datasets[0]["pairs"]) == "41"
    assert shown["rejected rows"] == str(datasets[0]["rejected"]) == "3"
    assert shown["runs"] == str(len(runs)) and shown["running"] == "1"
    reasons = frame_with(at, "reason", "rows")
    assert dict(zip(reasons["reason"], reasons["rows"], strict=True)) == datasets[0]["reasons"]
    table = frame_with(at, "kind", "status", "progress")
    assert list(table["id"]) == [r["id"] for r in runs]
    assert table.set_index("id").loc[dash.running_run, "progress"] == pytest.approx(0.4)
    assert table.set_index("id").loc[dash.running_run, "status"] == "running"
    headline = headline_tables(at).set_index("run")
    for run in runs:
        row = headline.loc[run_label(run)]
        s = summaries[run["id"]]
        if run["kind"] == "score":
            assert row["accuracy"] == s["accuracy"] and row["reward std"] == s["reward_std"]
            assert row["n"] == s["pairs"]
        if run["kind"] == "score_generations":
            assert row["win rate"] == s["comparisons"][0]["win_rate"]
        if run["kind"] == "train_dpo":
            assert row["last train loss"] == s["metrics"]["train/loss"]["last"]
    # A DPO run's accuracy is its eval accuracy, labelled; never a training window's.
    dpo = headline.loc[run_label(next(r for r in runs if r["id"] == dash.dpo_run))]
    assert dpo["eval accuracy"] == 0.625
    assert dpo["accuracy from"] == "eval/rewards/accuracies, eval split, step 12"
    simpo = headline.loc[run_label(next(r for r in runs if r["id"] == dash.simpo_run))]
    assert pd.isna(simpo["eval accuracy"]) and simpo["accuracy from"] == "no eval logged"
    ckpts = frame_with(at, "name", "runs")
    assert list(ckpts["name"]) == [c["name"] for c in checkpoints]


def test_overview_numbers_equal_the_api_json(db_url, dash, open_page):
    """The JSON twin: the backend's read endpoints on the same store give the same numbers."""
    from fastapi.testclient import TestClient

    from backend.app import create_app
    from preflens.config import Settings

    at = open_page("overview")
    app = create_app(Settings(database_url=db_url, api_rm="", api_policies={}))
    with TestClient(app) as client:
        runs = client.get("/v1/runs").json()
        datasets = client.get("/v1/datasets").json()
        summaries = {r["id"]: client.get(f"/v1/runs/{r['id']}/summary").json() for r in runs}
    assert metrics(at)["pairs"] == str(datasets[0]["pairs"])
    table = frame_with(at, "kind", "status", "progress").set_index("id")
    for run in runs:
        assert table.loc[run["id"], "progress"] == run["progress"]
        assert table.loc[run["id"], "status"] == run["status"]
    headline = headline_tables(at).set_index("run")
    for run in runs:
        if run["kind"] == "score":
            s = summaries[run["id"]]
            row = headline.loc[run_label(run)]
            assert (row["accuracy"], row["reward mean"], row["reward std"], row["gap mean"]) == (
                s["accuracy"],
                s["reward_mean"],
                s["reward_std"],
                s["gap_mean"],
            )


def test_reward_model_and_cases_numbers_equal_the_api_json(db_url, dash, open_page):
    from fastapi.testclient import TestClient

    from backend.app import create_app
    from preflens.config import Settings

    after = dash.after_run
    rm = open_page("reward_model")
    cases = open_page("cases", {"run": str(after), "sort": "abs_gap", "limit": "20"})
    app = create_app(Settings(database_url=db_url, api_rm="", api_policies={}))
    with TestClient(app) as client:
        summary = client.get(f"/v1/runs/{after}/summary").json()
        gap = client.get(f"/v1/runs/{after}/histogram", params={"side": "gap", "bins": 40})
        page = client.get("/v1/cases", params={"run": after, "sort": "abs_gap", "limit": 20})
    assert metrics(rm)["accuracy"] == fmt(summary["accuracy"])
    assert metrics(rm)["reward std"] == fmt(summary["reward_std"])
    spec, data = chart_titled(rm, "Gap (chosen - rejected): right of 0 is correct")
    assert list(bars_of(spec, data)["count"]) == gap.json()["counts"]
    assert list(bars_of(spec, data)["bin_start"]) == gap.json()["edges"][:-1]
    shown = [m.value.split("**")[1] for m in cases.markdown if m.value.startswith("**Pair ")]
    assert shown == [f"Pair {i['pair_id']}" for i in page.json()["items"]]


def test_progress_of_a_running_job_updates_on_refresh(store, dash, open_page):
    from db.schema import Run

    at = open_page("overview")
    table = frame_with(at, "kind", "status", "progress").set_index("id")
    assert table.loc[dash.running_run, "progress"] == pytest.approx(0.4)
    with store() as s:
        s.get(Run, dash.running_run).progress = 0.9
        s.commit()
    reload = next(b for b in at.button if b.label == "Reload data")  # in the sidebar
    reload.click().run()  # what a refresh after the runs' 2-second TTL does
    table = frame_with(at, "kind", "status", "progress").set_index("id")
    assert table.loc[dash.running_run, "progress"] == pytest.approx(0.9)


# ------------------------------------------------------------------ reward model
def test_reward_model_page_shows_the_run_and_its_before_after_partner(store, dash, open_page):
    at = open_page("reward_model")
    after, before = dash.after_run, dash.base.score_run
    assert at.selectbox(key="rm_run").value == after  # the newest finished score run
    with store() as s:
        summary = read.run_summary(s, after)
        boxes = {side: read.box_stats(s, after, side) for side in ("chosen", "rejected", "gap")}
        lo = min(boxes["chosen"]["min"], boxes["rejected"]["min"])
        hi = max(boxes["chosen"]["max"], boxes["rejected"]["max"])
        chosen_hist = read.histogram(s, after, "chosen", 40, lo, hi)
        gap_hist = read.histogram(s, after, "gap", 40)
        other = read.run_summary(s, before)
    shown = metrics(at)
    assert shown["accuracy"] == fmt(summary["accuracy"]) == "0.675"
    assert shown["reward mean"] == fmt(summary["reward_mean"])
    assert shown["reward std"] == fmt(summary["reward_std"])
    assert shown["pairs"] == str(summary["pairs"])
    cut = f"{summary['truncated_responses']} of {2 * summary['pairs']}"
    assert shown["sides cut at max length"] == cut
    box = frame_with(at, "whisker_low", "q3").set_index("series")
    for side, stats in boxes.items():
        assert box.loc[side, "median"] == stats["median"] and box.loc[side, "q1"] == stats["q1"]
    cats = frame_with(at, "category", "accuracy", "gap_mean")
    assert list(cats["accuracy"]) == [c["accuracy"] for c in summary["categories"]]

    spec, data = chart_titled(at, "Chosen and rejected scores")
    bars = bars_of(spec, data)
    assert list(bars[bars["series"] == "chosen"]["count"]) == chosen_hist["counts"]
    spec, data = chart_titled(at, "Gap (chosen - rejected): right of 0 is correct")
    assert list(bars_of(spec, data)["count"]) == gap_hist["counts"]
    assert len(charts(at)) >= 8

    # The other half of the training run's before/after pair is picked to compare.
    assert at.selectbox(key="rm_other").value == before
    compare = frame_with(at, "run", "accuracy", "reward_std").set_index("run")
    assert compare.loc[f"#{after} (after)", "accuracy"] == summary["accuracy"]
    assert compare.loc[f"#{before} (before)", "accuracy"] == other["accuracy"]


def test_reward_model_page_follows_the_chosen_run(store, dash, open_page):
    at = open_page("reward_model")
    at.selectbox(key="rm_run").select(dash.base.score_run).run()
    assert not at.exception
    with store() as s:
        summary = read.run_summary(s, dash.base.score_run)
    assert metrics(at)["accuracy"] == fmt(summary["accuracy"])
    assert at.selectbox(key="rm_other").value == dash.after_run


# ------------------------------------------------------------------ training
def test_training_page_draws_rm_and_dpo_curves(store, dash, open_page):
    at = open_page("training")
    tr, dpo = dash.base.train_run, dash.dpo_run
    assert sorted(at.multiselect(key="train_runs").value) == sorted([tr, dpo])
    titles = [spec.get("title") for spec, _ in charts(at)]
    dpo_label = f"#{dpo} train_dpo dpo-toy"
    for title in (
        "RM loss",
        "DPO loss",
        f"DPO implicit rewards of #{dpo}: chosen vs rejected",
        "DPO implicit rewards: margin (chosen - rejected)",
        "DPO learning rate",
        "RM learning rate",
        "RM accuracy (chosen scored above rejected)",
    ):
        assert title in titles, titles
    spec, data = chart_titled(at, "RM loss")
    assert set(curve_rows(data)["run"]) == {f"#{tr} train_rm rm-toy"}
    spec, data = chart_titled(at, "DPO loss")
    rows = curve_rows(data)
    assert set(rows["run"]) == {dpo_label}
    with store() as s:
        curves = read.metrics(s, [tr, dpo], ["train/loss"])
        last = read.run_summary(s, dpo)["metrics"]
    dpo_loss = rows[(rows["run"] == dpo_label) & (rows["metric"] == "train/loss")]
    assert list(dpo_loss["value"]) == curves["runs"][1]["series"]["train/loss"]["values"]
    # Eval curves beside train: dashed, from the eval/* metrics.
    assert set(rows[rows["run"] == dpo_label]["split"]) == {"train", "eval"}
    assert spec["layer"][0]["encoding"]["strokeDash"]["field"] == "split"
    # Chosen and rejected in their fixed colours, told apart in the legend.
    spec, data = chart_titled(at, f"DPO implicit rewards of #{dpo}: chosen vs rejected")
    scale = spec["layer"][0]["encoding"]["color"]["scale"]
    assert dict(zip(scale["domain"], scale["range"], strict=True)) == {
        "chosen": CHOSEN_COLOR,
        "rejected": REJECTED_COLOR,
    }
    # The first step (every reward 0) is left out of the accuracy curve, and said so.
    spec, data = chart_titled(at, "DPO implicit rewards: accuracy")
    acc = curve_rows(data)
    assert 1 not in set(acc["step"]) and min(acc["value"]) > 0
    assert any(f"{dpo_label} train step 1" in c.value for c in at.caption)
    table = frame_with(at, "metric", "last_step", "last")
    row = table[(table["metric"] == "train/rewards/margins")].iloc[0]
    assert row["last"] == last["train/rewards/margins"]["last"]

    at.multiselect(key="train_runs").unselect(dpo).run()
    titles = [spec.get("title") for spec, _ in charts(at)]
    assert not any(t.startswith("DPO implicit rewards") for t in titles)


def test_training_page_names_simpo_rewards_by_their_loss(dash, open_page):
    at = open_page("training")
    at.multiselect(key="train_runs").set_value([dash.simpo_run]).run()
    assert not at.exception
    titles = [spec.get("title") for spec, _ in charts(at)]
    assert f"SimPO rewards of #{dash.simpo_run}: chosen vs rejected" in titles
    assert not any("DPO implicit" in t for t in titles)
    assert any("average log-prob" in c.value and "no reference" in c.value for c in at.caption)


# ------------------------------------------------------------------ policies
def test_policies_page_shows_the_comparison(store, dash, open_page):
    at = open_page("policies")
    gr = dash.base.gen_score_run
    with store() as s:
        summary = read.run_summary(s, gr)
        scatter = read.generation_scatter(s, gr)
        diff = read.histogram(s, gr, "gap", 30, a="dpo", b="base")
    cmp = summary["comparisons"][0]
    shown = metrics(at)
    assert shown["prompts"] == str(cmp["n"])
    # Ties count half: (W + T/2) / n, from the counts (and decisive: W / (W + L)).
    w, t, n = cmp["wins"], cmp["ties"], cmp["n"]
    assert shown["win rate"] == fmt_pct(cmp["win_rate"]) == fmt_pct((w + t / 2) / n)
    assert shown["decisive win rate"] == fmt_pct(w / (w + cmp["losses"]))
    assert shown["wins / ties / losses"] == f"{cmp['wins']} / {cmp['ties']} / {cmp['losses']}"
    assert shown["mean diff (A - B)"] == fmt_signed(cmp["mean_diff"])
    assert shown["A mean"] == fmt(summary["policies"]["dpo"]["mean"])
    table = frame_with(at, "policy", "mean_chars", "pearson_length_score").set_index("policy")
    for name, stats in summary["policies"].items():
        assert table.loc[name, "mean_chars"] == stats["mean_chars"]
        assert table.loc[name, "pearson_length_score"] == stats["pearson_length_score"]
        assert table.loc[name, "cut_at_limit"] == stats["cut_at_limit"]

    spec, data = chart_titled(at, "Score per prompt: above y = x, A wins")
    shown_points = rows_of(spec, layer(spec, "point"), data)
    assert list(shown_points["score_a"]) == [p["score_a"] for p in scatter["points"]]
    cut = shown_points.set_index("pair_id")["cut"]
    for p in scatter["points"]:
        if p["finish_a"] == "length" and p["finish_b"] == "length":
            assert cut[p["pair_id"]] == "both cut at limit"
    assert any(p["mark"]["type"] == "line" for p in spec["layer"])  # the y = x line
    spec, data = chart_titled(at, "Difference A - B per prompt")
    assert list(bars_of(spec, data)["count"]) == diff["counts"]
    titles = [s.get("title") for s, _ in charts(at)]
    assert "Length against score (crosses: cut at the length limit)" in titles
    assert "CDF of each policy's scores" in titles and "Box plots of each policy's scores" in titles


# ------------------------------------------------------------------ cases
def test_cases_from_a_link_show_model_text_as_text(store, dash, open_page):
    sr = dash.base.score_run
    at = open_page("cases", {"run": str(sr), "sort": "gap_desc", "limit": "10"})
    with store() as s:
        page = read.search_cases(s, sr, sort="gap_desc", limit=10)
    headers = [m.value for m in at.markdown if m.value.startswith("**Pair ")]
    assert [h.split("**")[1] for h in headers] == [f"Pair {i['pair_id']}" for i in page["items"]]
    first = page["items"][0]
    assert first["pair_id"] == dash.xss_pair
    assert f"gap **{fmt_signed(first['gap'], 4)}**" in headers[0]
    # The raw HTML is shown as text (st.text) and never reaches Markdown.
    assert any(XSS_SCRIPT in t and XSS_IMG in t for t in texts(at))
    assert not any("<script>" in m.value for m in at.markdown)
    scores = [m.value for m in at.markdown if m.value.startswith("**Rejected**")]
    rejected = f"**Rejected** · score {fmt(first['score_rejected'], 4)}"
    assert scores[0] == f"{rejected} · 15 conversation tokens (as scored)"


def test_cases_filters_paging_and_a_shared_case(store, dash, open_page):
    sr = dash.base.score_run
    query = {"run": str(sr), "sort": "abs_gap", "min_gap": "-1", "max_gap": "1.5"}
    at = open_page("cases", {**query, "category": "safety"})
    assert at.text_input(key="cases_min_gap").value == "-1.0"
    assert at.selectbox(key="cases_category").value == "safety"
    kwargs = {"min_gap": -1.0, "max_gap": 1.5, "sort": "abs_gap", "category": "safety"}
    with store() as s:
        first = read.search_cases(s, sr, limit=10, **kwargs)
        everything = read.search_cases(s, sr, limit=200, **kwargs)["items"]
    shown = [m.value for m in at.markdown if m.value.startswith("**Pair ")]
    assert len(shown) == min(10, len(everything))
    assert all("category safety" in h for h in shown)

    at.selectbox(key="cases_category").select(None).run()  # (any)
    assert "category" not in at.query_params and at.query_params["sort"] == "abs_gap"
    with store() as s:
        first = read.search_cases(s, sr, limit=10, **{**kwargs, "category": None})
        second = read.search_cases(
            s, sr, limit=10, cursor=first["next_cursor"], **{**kwargs, "category": None}
        )
    at.button(key="cases_next_top").click().run()
    assert at.query_params["page"] == "2" and at.query_params["cursor"] == first["next_cursor"]
    shown = [m.value.split("**")[1] for m in at.markdown if m.value.startswith("**Pair ")]
    assert shown == [f"Pair {i['pair_id']}" for i in second["items"]]
    at.button(key="cases_prev_top").click().run()
    assert "cursor" not in at.query_params and "page" not in at.query_params

    pid = first["items"][0]["pair_id"]
    at.button(key=f"cases_open_{pid}").click().run()
    assert at.query_params["case"] == str(pid)
    with store() as s:
        full = read.get_case(s, sr, pid)
    assert f"Pair {pid} in full" in [h.value for h in at.subheader]
    assert full["pair"]["chosen"] in texts(at) and full["pair"]["rejected"] in texts(at)
    assert metrics(at)["P(chosen preferred)"] == fmt(full["scores"]["p_chosen_preferred"])
    assert any(f"case={pid}" in c.value for c in at.code)  # the link to share


def test_a_shared_case_link_opens_the_case(store, dash, open_page):
    sr = dash.base.score_run
    at = open_page("cases", {"run": str(sr), "case": str(dash.xss_pair)})
    assert f"Pair {dash.xss_pair} in full" in [h.value for h in at.subheader]
    assert any(XSS_SCRIPT in t for t in texts(at))


def test_cases_of_a_generation_comparison(store, dash, open_page):
    gr = dash.base.gen_score_run
    at = open_page("cases", {"run": str(gr), "sort": "gap_asc"})
    assert (at.selectbox(key="cases_a").value, at.selectbox(key="cases_b").value) == ("dpo", "base")
    with store() as s:
        page = read.search_cases(s, gr, sort="gap_asc", limit=10)
    sides = [m.value for m in at.markdown if m.value.startswith("**dpo \\(A\\)**")]
    assert len(sides) == len(page["items"])
    item = page["items"][0]
    assert sides[0].startswith(f"**dpo \\(A\\)** · score {fmt(item['score_a'], 4)}")
    assert item["text_a"] in texts(at)


def test_a_stale_cursor_in_a_link_falls_back_to_the_first_page(dash, open_page):
    at = open_page("cases", {"run": str(dash.base.score_run), "cursor": "garbage", "page": "3"})
    assert any("cursor" in w.value for w in at.warning)
    assert "cursor" not in at.query_params
    assert [m for m in at.markdown if m.value.startswith("**Pair ")]


# ------------------------------------------------------------------ live scoring
def test_live_page_says_when_the_backend_is_not_reachable(dash, open_page):
    at = open_page("live")
    (error,) = at.error
    assert "Backend not reachable" in error.value and "preflens serve" in error.value
    at.text_area(key="live_prompt").input("Is water wet?")
    at.text_area(key="live_a").input("Yes.")
    at.form_submit_button[0].click().run()
    assert not at.exception
    assert any("not reachable" in e.value for e in at.error)
    assert not at.metric


def test_live_page_shows_scores_gap_probability_and_marks_the_histogram(
    store, dash, open_page, monkeypatch
):
    from dashboard.api_client import ApiClient

    calls = []
    answer = {
        "model": "rm-toy",
        "score_a": 1.25,
        "score_b": -0.5,
        "gap": 1.75,
        "p_a_preferred": 0.8519528,
        "n_tokens_a": 12,
        "n_tokens_b": 9,
        "truncated_a": False,
        "truncated_b": False,
        "run": None,
        "percentile_a": None,
        "percentile_b": None,
    }
    monkeypatch.setattr(ApiClient, "health", lambda self: {"status": "ok"})
    monkeypatch.setattr(ApiClient, "models", lambda self: {"reward_model": {"name": "rm-toy"}})

    def compare(self, prompt, a, b, run=None):  # percentiles are read from the store
        calls.append((prompt, a, b, run))
        return answer

    monkeypatch.setattr(ApiClient, "compare", compare)
    at = open_page("live")
    assert not at.error and "rm-toy" in texts(at)
    at.text_area(key="live_prompt").input("Is water wet?")
    at.text_area(key="live_a").input("Yes, it is.")
    at.text_area(key="live_b").input("<b>No</b>")
    at.form_submit_button[0].click().run()
    assert calls == [("Is water wet?", "Yes, it is.", "<b>No</b>", None)]
    shown = metrics(at)
    assert shown["score A"] == "1.2500" and shown["score B"] == "-0.5000"
    assert shown["gap (A - B)"] == "+1.7500" and shown["P(A preferred)"] == "0.852"
    details = frame_with(at, "response", "percentile in run")
    with store() as s:
        expected = [read.score_percentile(s, dash.after_run, x) for x in (1.25, -0.5)]
    assert list(details["percentile in run"]) == expected
    (spec, data) = charts(at)[0]
    assert list(rows_of(spec, layer(spec, "rule"), data)["x"]) == [1.25, -0.5]
    assert set(bars_of(spec, data)["series"]) == {"chosen", "rejected"}


def test_live_page_with_one_response_uses_the_store_for_the_percentile(
    store, dash, open_page, monkeypatch
):
    from dashboard.api_client import ApiClient

    score = {"score": 0.3, "n_tokens": 7, "truncated": False, "model": "rm-toy"}
    monkeypatch.setattr(ApiClient, "health", lambda self: {"status": "ok"})
    monkeypatch.setattr(ApiClient, "models", lambda self: {"reward_model": {"name": "rm-toy"}})
    monkeypatch.setattr(ApiClient, "score", lambda self, prompt, response: score)
    at = open_page("live")
    at.text_area(key="live_prompt").input("Hi")
    at.text_area(key="live_a").input("Hello!")
    at.form_submit_button[0].click().run()
    with store() as s:
        expected = read.score_percentile(s, dash.after_run, 0.3)
    assert metrics(at)["score A"] == "0.3000" and "P(A preferred)" not in metrics(at)
    assert list(frame_with(at, "percentile in run")["percentile in run"]) == [expected]


# ------------------------------------------------------------------ empty or missing store
@pytest.mark.parametrize("page", ["overview", "reward_model", "training", "policies", "cases"])
def test_pages_on_an_empty_store_say_what_to_run(store, app_env, open_page, page):
    at = open_page(page)
    assert not at.error
    assert at.info and "preflens" in at.info[0].value


def test_a_missing_store_is_a_clear_error(tmp_path, monkeypatch, app_env, open_page):
    from preflens.config import get_settings

    monkeypatch.setenv("PREFLENS_DATABASE_URL", f"sqlite:///{tmp_path / 'nowhere.db'}")
    get_settings.cache_clear()
    at = open_page("reward_model")
    (error,) = at.error
    assert "cannot read the store" in error.value and "preflens demo" in error.value
