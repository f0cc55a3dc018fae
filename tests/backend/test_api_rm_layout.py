"""A run's reward-model layout and untrained-head mark in ``/v1/runs/{id}`` and in the
dashboard's run label (the same dict)."""

from __future__ import annotations

from dashboard.frames import run_label
from tests.factories import ingest_test_split
from tests.training.rm_checkpoints import openrlhf_class, save, tiny_config
from training.jobs.score import run_score_job


def test_run_json_and_label_show_layout_normalisation_and_untrained_head(
    store, make_client, tiny_lm, tmp_path
):
    ingest_test_split(store, tmp_path, "p", 3)
    config = tiny_config(normalize_reward=True, mean=0.25, std=2.0, value_head_prefix="value_head")
    folder = save(openrlhf_class("value_head")(config), tmp_path / "orl")
    orl = run_score_job(store, str(folder), "p", "test", progress=False).run.id
    base = run_score_job(store, str(tiny_lm), "p", "test", progress=False).run.id
    client = make_client()

    got = client.get(f"/v1/runs/{orl}").json()
    assert got["head_initialized"] is False
    assert got["rm_layout"]["layout"] == "openrlhf" and got["rm_layout"]["normalized"] is True
    assert (
        got["rm_layout"]["normalization"] | {"mean": 0.25, "std": 2.0}
        == got["rm_layout"]["normalization"]
    )
    assert got["rm_label"] == "openrlhf layout, normalized: (r - 0.25) / 2"
    assert run_label(got).endswith("· openrlhf layout, normalized: (r - 0.25) / 2")

    untrained = client.get(f"/v1/runs/{base}").json()
    assert untrained["head_initialized"] is True and untrained["rm_label"] == "untrained head"
    assert run_label(untrained).endswith("· untrained head")
    assert str(tmp_path) not in client.get(f"/v1/runs/{orl}").text  # no server paths
