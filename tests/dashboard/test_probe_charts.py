"""Probe chart builders: token layout, one shared colour scale, edit rankings, DPO
scatter quadrants (Vega-Lite dicts only, no browser)."""

from __future__ import annotations

import pandas as pd

from dashboard.probe_charts import (
    agreement_chart,
    agreement_label,
    dpo_delta_chart,
    dpo_quadrant,
    edit_change_chart,
    edit_frames,
    flip_rate_chart,
    token_frame,
    token_heatmap_chart,
)


def tok(text, value, response=True):
    return {"text": text, "value": value, "response": response}


def test_token_frame_wraps_lines_and_breaks_after_newlines():
    tokens = [tok("abcd", 0.1), tok("efgh", 0.2), tok("ij\n", -0.3), tok("k", 0.4)]
    df = token_frame({"chosen": tokens}, line_chars=8)
    assert df["line"].tolist() == [0, 0, 1, 2]  # "ij\n" overflows line 0; "k" after the break
    assert df["x0"].tolist() == [0, 4, 0, 0]
    assert df.loc[2, "text"] == "ij\\n"  # the newline is drawn visibly


def test_heatmap_uses_one_zero_centred_scale_for_both_responses():
    df = token_frame(
        {
            "chosen": [tok("Hi", 0.5), tok("<script>alert(1)</script>", -2.0)],
            "rejected": [tok("No", 1.0), tok("<|im_end|>", 0.2, response=False)],
        }
    )
    spec = token_heatmap_chart(df).to_dict()
    assert len(spec["vconcat"]) == 2 and spec["resolve"]["scale"]["color"] == "shared"
    domains = [
        layer["encoding"]["color"]["scale"]["domain"]
        for panel in spec["vconcat"]
        for layer in panel["layer"]
        if "color" in layer.get("encoding", {})
    ]
    assert domains == [[-2.0, 2.0], [-2.0, 2.0]]
    # model text is data for a text mark, never markup
    texts = [layer for panel in spec["vconcat"] for layer in panel["layer"]]
    assert any(layer["mark"]["type"] == "text" for layer in texts)
    assert "<script>alert(1)</script>" in str(spec["datasets"])


def test_edit_frames_keep_the_summary_order_and_build_charts():
    interval = {"value": 0.2, "ci_low": 0.1, "ci_high": 0.3, "n": 5, "method": "x"}
    rate = {"value": 0.4, "ci_low": 0.1, "ci_high": 0.8, "n": 5, "method": "wilson", "k": 2}
    summary = {
        "edits": [
            {"edit": "b", "mean_change": interval, "flip_rate_chosen": rate,
             "flip_rate_rejected": rate},
            {"edit": "a", "mean_change": {**interval, "value": -0.1}, "flip_rate_chosen": rate,
             "flip_rate_rejected": {**rate, "value": 0.0, "k": 0}},
        ]
    }  # fmt: skip
    change, flips = edit_frames(summary)
    assert change["edit"].tolist() == ["b", "a"] and change["mean"].tolist() == [0.2, -0.1]
    assert flips[["edit", "side"]].values.tolist() == [
        ["b", "chosen"], ["b", "rejected"], ["a", "chosen"], ["a", "rejected"]
    ]  # fmt: skip
    spec = edit_change_chart(change).to_dict()
    assert spec["layer"][0]["encoding"]["y"]["sort"] == ["b", "a"]
    assert flip_rate_chart(flips).to_dict()["layer"][1]["encoding"]["x"]["field"] == "rate"


def test_dpo_and_agreement_quadrants():
    assert dpo_quadrant(-1.0, -0.5) == "both fell"
    assert dpo_quadrant(0.5, -0.5) == "chosen rose, rejected fell"
    assert agreement_label(0.3, 0.1) == "both prefer chosen"
    assert agreement_label(0.3, -0.1) == "only the RM prefers chosen"
    assert agreement_label(0.0, 0.2) == "only DPO prefers chosen"
    assert agreement_label(-1, 0.0) == "neither prefers chosen"
    df = pd.DataFrame(
        {"pair_id": [1, 2], "delta_chosen": [-1.0, 0.5], "delta_rejected": [-2.0, 0.1]}
    )
    df["quadrant"] = [
        dpo_quadrant(c, r) for c, r in zip(df.delta_chosen, df.delta_rejected, strict=True)
    ]
    spec = dpo_delta_chart(df).to_dict()
    assert len(spec["layer"]) == 3  # points and the two zero rules
    g = pd.DataFrame({"pair_id": [1], "rm_gap": [0.2], "dpo_gap": [-0.1], "quadrant": ["x"]})
    assert agreement_chart(g).to_dict()["layer"][0]["encoding"]["x"]["field"] == "rm_gap"


def test_the_probes_page_shows_the_read_functions_numbers(store, app_env, tmp_path, tiny_lm):
    """The Probes page on a store with a probe run, a DPO run and an RM run (AppTest)."""
    from streamlit.testing.v1 import AppTest

    from db.read import probes as reads
    from tests.dashboard.conftest import APP
    from tests.factories import ingest_test_split, make_tiny_lm_dir
    from training.jobs.probe import run_probe_job
    from training.jobs.score import run_score_job
    from training.jobs.score_dpo import run_score_dpo_job

    name = ingest_test_split(store, tmp_path, "page", 6)
    probe = run_probe_job(store, str(tiny_lm), name, "test", edits=["first_half"], progress=False)
    policy = make_tiny_lm_dir(tmp_path / "policy", seed=1)
    dpo = run_score_dpo_job(store, str(policy), str(tiny_lm), name, progress=False)
    run_score_job(store, str(tiny_lm), name, "test", progress=False)
    with store() as s:
        summary = reads.probe_summary(s, probe.run.id)
        dpo_sum = reads.dpo_summary(s, dpo.run.id)

    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page("app_pages/probes.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    shown = {m.label: m.value for m in at.metric}
    assert shown["pairs probed"] == str(summary["pairs"])
    acc = dpo_sum["accuracy"]
    assert shown["implicit-reward accuracy"] == f"{100 * acc['value']:.1f}%"
    ci = f"[{100 * acc['ci_low']:.1f}%, {100 * acc['ci_high']:.1f}%]"  # under the value, whole
    assert f"95% {ci} · n={acc['n']} · Wilson 95%" in [c.value for c in at.caption]
    assert "pairs in both" in shown and "both fell" in shown
    assert len(at.get("vega_lite_chart")) >= 4  # two edit charts, the DPO scatter, agreement


def _heatmaps(at) -> list[dict]:
    import json

    specs = [json.loads(el.proto.spec) for el in at.get("vega_lite_chart")]
    return [s for s in specs if "vconcat" in s]


def test_live_and_case_views_draw_token_heatmaps(store, dash, open_page, monkeypatch):
    from dashboard.api_client import ApiClient

    asked = []

    def token_values(self, prompt, responses):
        asked.append((prompt, list(responses)))
        return [[tok(r[:3], 0.5), tok("<|im_end|>", -1.0, False)] for r in responses]

    monkeypatch.setattr(ApiClient, "health", lambda self: {"status": "ok"})
    monkeypatch.setattr(ApiClient, "models", lambda self: {"reward_model": {"name": "rm"}})
    monkeypatch.setattr(ApiClient, "score", lambda self, p, r: {
        "model": "rm", "score": -1.0, "n_tokens": 5, "truncated": False})  # fmt: skip
    monkeypatch.setattr(ApiClient, "token_values", token_values)
    at = open_page("live")
    at.text_area(key="live_prompt").input("Is water wet?")
    at.text_area(key="live_a").input("<b>Yes</b>")
    at.checkbox(key="live_tokens").check()
    at.form_submit_button[0].click().run()
    assert not at.exception and asked == [("Is water wet?", ["<b>Yes</b>"])]
    (spec,) = _heatmaps(at)
    assert [p["title"] for p in spec["vconcat"]] == ["A"]

    sr = dash.base.score_run
    at = open_page("cases", {"run": str(sr), "case": str(dash.xss_pair)})
    at.toggle(key="cases_tokens").set_value(True).run()
    assert not at.exception
    assert len(asked) == 2 and len(asked[1][1]) == 2  # chosen and rejected in one request
    (spec,) = _heatmaps(at)
    assert [p["title"] for p in spec["vconcat"]] == ["chosen", "rejected"]
    assert spec["resolve"]["scale"]["color"] == "shared"
