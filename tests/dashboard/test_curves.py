"""The Training page's charts (``dashboard.curves``), the palette every chart shares and
the Overview's headline of a training run: pure functions, checked on their frames and
Vega-Lite dicts."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard import charts, curves, frames

SIGMOID = "#7 train_dpo dpo-toy"
SIMPO = "#6 train_dpo simpo-toy"
RM = "#3 train_rm rm-toy"
RUNS = {
    SIGMOID: {"id": 7, "kind": "train_dpo", "config": {"loss": "sigmoid"}},
    SIMPO: {"id": 6, "kind": "train_dpo", "config": {"loss": "simpo"}},
    RM: {"id": 3, "kind": "train_rm", "config": {}},
}


def rows(run: str, split: str, step: int, **values: float) -> list[dict]:
    return [
        {"run": run, "metric": f"{split}/{name.replace('__', '/')}", "step": step, "value": v}
        for name, v in values.items()
    ]


def metric_rows() -> pd.DataFrame:
    data = []
    zero = dict(rewards__chosen=0.0, rewards__rejected=0.0, rewards__margins=0.0)
    data += rows(SIGMOID, "train", 1, loss=0.693, rewards__accuracies=0.0, **zero)
    for step in (2, 4):
        data += rows(
            SIGMOID,
            "train",
            step,
            loss=0.6,
            rewards__chosen=0.1,
            rewards__rejected=-0.1,
            rewards__margins=0.2,
            rewards__accuracies=0.75,
            logps__chosen=-40.0,
            logps__rejected=-45.0,
            learning_rate=1e-5,
            grad_norm=3.0,
        )
    data += rows(
        SIGMOID,
        "eval",
        4,
        loss=0.65,
        rewards__chosen=0.05,
        rewards__rejected=-0.02,
        rewards__margins=0.07,
        rewards__accuracies=0.6,
    )
    data += rows(SIMPO, "train", 1, loss=1.0, rewards__chosen=-2.0, rewards__rejected=-2.2)
    data += rows(SIMPO, "train", 1, rewards__margins=0.2, rewards__accuracies=0.6)
    data += rows(RM, "train", 5, loss=0.5, accuracy=0.7)
    data += rows(RM, "eval", 5, loss=0.55, accuracy=0.65)
    return pd.DataFrame(data, columns=["run", "metric", "step", "value"])


@pytest.fixture
def drawn() -> dict[str, curves.Curve]:
    return {c.title: c for c in curves.training_curves(metric_rows(), RUNS)}


def test_eval_series_are_drawn_beside_train(drawn):
    loss = drawn["DPO loss"].rows
    assert set(zip(loss["run"], loss["split"], strict=True)) == {
        (SIGMOID, "train"),
        (SIGMOID, "eval"),
    }
    assert list(loss["series"]) == list(loss["run"])  # colour: the run
    assert set(zip(*[drawn["RM loss"].rows[c] for c in ("run", "split")], strict=True)) == {
        (RM, "train"),
        (RM, "eval"),
    }
    rm = drawn["RM accuracy (chosen scored above rejected)"].rows
    assert set(rm["split"]) == {"train", "eval"}
    margins = drawn["DPO implicit rewards: margin (chosen - rejected)"].rows
    assert set(margins["split"]) == {"train", "eval"} and set(margins["run"]) == {SIGMOID}


def test_rewards_are_named_by_the_runs_loss_type(drawn):
    simpo = drawn["SimPO rewards of #6: chosen vs rejected"]
    assert "average log-prob" in simpo.caption and "no reference" in simpo.caption
    dpo = drawn["DPO implicit rewards of #7: chosen vs rejected"]
    assert "log-ratio of policy to reference" in dpo.caption
    # Never one chart mixing SimPO's and DPO's rewards.
    assert not any("DPO implicit" in t and "#6" in t for t in drawn)
    assert set(drawn["SimPO rewards: margin (chosen - rejected)"].rows["run"]) == {SIMPO}
    # Chosen / rejected are the colour series (one chart per run), both splits kept.
    assert set(dpo.rows["series"]) == {"chosen", "rejected"}
    assert set(dpo.rows["split"]) == {"train", "eval"}
    assert curves.family({"kind": "train_dpo", "config": {}})[0].startswith("Rewards (loss type")


def test_the_tied_first_step_is_left_out_of_accuracy_curves(drawn):
    acc = drawn["DPO implicit rewards: accuracy"]
    train = acc.rows[acc.rows["split"] == "train"]
    assert list(train["step"]) == [2, 4] and 0.0 not in list(train["value"])
    assert f"{SIGMOID} train step 1" in acc.caption and "tie" in acc.caption
    # Only accuracies lose that point: loss and rewards keep step 1.
    loss = drawn["DPO loss"].rows
    assert 1 in set(loss[loss["run"] == SIGMOID]["step"])
    rewards = drawn["DPO implicit rewards of #7: chosen vs rejected"].rows
    assert 1 in set(rewards["step"])
    simpo = drawn["SimPO rewards: accuracy"]
    assert simpo.caption is None and list(simpo.rows["value"]) == [0.6]


def test_metrics_no_chart_draws_are_offered_separately():
    assert curves.other_metrics(metric_rows()) == ["train/grad_norm"]


def test_metric_chart_tells_train_from_eval_and_chosen_from_rejected(drawn):
    curve = drawn["DPO implicit rewards of #7: chosen vs rejected"]
    spec = charts.metric_chart(curve.rows, title=curve.title, y_title="reward").to_dict()
    spec = spec["layer"][0]
    enc = spec["encoding"]
    assert enc["color"]["field"] == "series"
    colors = dict(zip(enc["color"]["scale"]["domain"], enc["color"]["scale"]["range"], strict=True))
    assert colors == {"chosen": charts.CHOSEN_COLOR, "rejected": charts.REJECTED_COLOR}
    # Train vs eval on dash and point shape (never colour), each with a legend.
    for channel, values in (("strokeDash", charts.SPLIT_DASH), ("shape", charts.SPLIT_SHAPE)):
        assert enc[channel]["field"] == "split"
        assert enc[channel]["scale"] == {"domain": ["train", "eval"], "range": values}
        assert enc[channel]["legend"]["values"] == ["train", "eval"]
    assert charts.SPLIT_DASH[0] != charts.SPLIT_DASH[1]
    assert charts.SPLIT_SHAPE[0] != charts.SPLIT_SHAPE[1]
    assert enc["detail"]["field"] == "metric"  # one line per metric, not one zigzag
    full = charts.metric_chart(curve.rows, title=curve.title).to_dict()
    name = (spec.get("data") or full["data"])["name"]
    assert full["datasets"][name] == curve.rows.to_dict("records")


def test_a_train_only_chart_lists_only_train_in_its_legend(drawn):
    spec = charts.metric_chart(drawn["DPO learning rate"].rows, title="Learning rate").to_dict()
    assert spec["layer"][0]["encoding"]["strokeDash"]["legend"]["values"] == ["train"]


def test_one_palette_for_every_chart():
    # Chosen and rejected are fixed; a policy keeps its colour whatever it is charted with.
    assert charts.series_colors(["rejected", "chosen"]) == {
        "chosen": charts.CHOSEN_COLOR,
        "rejected": charts.REJECTED_COLOR,
    }
    assert charts.name_color("dpo") == charts.name_color("dpo")
    assert charts.name_color("dpo") not in (charts.CHOSEN_COLOR, charts.REJECTED_COLOR)
    assert charts.series_colors(["base", "dpo"]) == charts.series_colors(["dpo", "base"])
    many = charts.series_colors([f"policy-{i}" for i in range(8)])
    assert len(set(many.values())) == 8  # no two series of one chart share a colour

    hist = pd.DataFrame(
        {"series": ["chosen", "rejected"], "bin_start": [0.0, 0.0], "bin_end": [1.0, 1.0]}
    ).assign(count=[1, 2])
    cdf = pd.DataFrame({"series": ["base", "dpo"], "x": [0.0, 1.0], "p": [1.0, 1.0]})
    length = pd.DataFrame(
        {"policy": ["base", "dpo"], "chars": [1, 2], "tokens": [1, 2], "score": [0.0, 1.0]}
    ).assign(finish="ended")
    specs = [
        charts.histogram_chart(hist).to_dict()["layer"][0],
        charts.cdf_chart(cdf).to_dict(),
        charts.length_chart(length).to_dict()["layer"][0],
    ]
    for spec in specs:
        scale = spec["encoding"]["color"]["scale"]
        for name, color in zip(scale["domain"], scale["range"], strict=True):
            assert color == charts.series_colors(scale["domain"])[name]
    assert specs[0]["encoding"]["color"]["scale"]["range"] == [
        charts.CHOSEN_COLOR,
        charts.REJECTED_COLOR,
    ]
    assert specs[1]["encoding"]["color"]["scale"] == specs[2]["encoding"]["color"]["scale"]
    wins = pd.DataFrame({"outcome": ["dpo wins", "tie", "base wins"], "count": [3, 1, 2]})
    enc = charts.wins_chart(wins.assign(order=[0, 1, 2])).to_dict()["encoding"]
    by_outcome = dict(
        zip(enc["color"]["scale"]["domain"], enc["color"]["scale"]["range"], strict=True)
    )
    pair = charts.series_colors(["dpo", "tie", "base"])
    assert by_outcome == {
        "dpo wins": pair["dpo"],
        "tie": charts.TIE_COLOR,
        "base wins": pair["base"],
    }


def _summary(**metrics: tuple[float, int]) -> dict:
    return {
        "metrics": {
            k.replace("__", "/"): {"last": v, "last_step": s} for k, (v, s) in metrics.items()
        }
    }


def test_the_headline_of_a_dpo_run_is_its_eval_accuracy_never_a_training_window():
    run = {"id": 7, "kind": "train_dpo", "status": "done", "model": "dpo", "config": {}}
    trained = _summary(train__loss=(0.4, 20), train__rewards__accuracies=(1.0, 20))
    row = frames.headline_row(run, trained)
    assert row["eval accuracy"] is None and row["accuracy from"] == "no eval logged"
    assert row["last train loss"] == 0.4 and row["loss step"] == 20

    run["config"] = {"eval_split": "test"}
    evaluated = _summary(
        train__loss=(0.4, 20),
        train__rewards__accuracies=(1.0, 20),
        eval__rewards__accuracies=(0.6, 18),
    )
    row = frames.headline_row(run, evaluated)
    assert row["eval accuracy"] == 0.6
    assert row["accuracy from"] == "eval/rewards/accuracies, test split, step 18"
    rm = {"id": 3, "kind": "train_rm", "status": "done", "model": "rm", "config": {}}
    row = frames.headline_row(rm, _summary(train__accuracy=(0.9, 5), eval__accuracy=(0.7, 5)))
    assert row["eval accuracy"] == 0.7 and row["accuracy from"].startswith("eval/accuracy, eval")
    assert set(row) <= set(frames.HEADLINE_COLUMNS)
