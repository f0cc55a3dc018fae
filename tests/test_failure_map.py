"""The map of a run's pairs: c-TF-IDF by hand, and a two-topic store where the RM is right
on one topic and wrong on the other (clusters separate the topics; the worst is the
wrong one), stored once per run and read back by ``map_clusters`` and ``map_view``."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from db.read.maps import map_clusters, map_view
from db.schema import Run
from preflens import failure_map
from preflens.errors import ConfigError, NotFoundError, QueryError
from tests.map_seed import two_topic_store
from training.jobs.map_pairs import run_map_job


def test_c_tf_idf_three_documents_by_hand():
    docs = [
        [["apple", "apple", "apple", "pie"]],
        [["apple", "tax"]],
        [["tax", "law", "law", "law"]],
    ]
    vocab, w = failure_map.c_tf_idf(docs)
    assert vocab == ["apple", "law", "pie", "tax"]
    # words per class 4, 2, 4 -> A = 10/3; term totals: apple 4, law 3, pie 1, tax 2
    a = 10 / 3
    expected = {
        (0, "apple"): 3 / 4 * math.log(1 + a / 4),  # 0.4546
        (0, "pie"): 1 / 4 * math.log(1 + a / 1),  # 0.3666
        (1, "apple"): 1 / 2 * math.log(1 + a / 4),  # 0.3031
        (1, "tax"): 1 / 2 * math.log(1 + a / 2),  # 0.4904
        (2, "tax"): 1 / 4 * math.log(1 + a / 2),  # 0.2452
        (2, "law"): 3 / 4 * math.log(1 + a / 3),  # 0.5568
    }
    for c in range(3):
        for j, t in enumerate(vocab):
            assert w[c, j] == pytest.approx(expected.get((c, t), 0.0))
    # 'apple' is in two classes: it names class 0 (3 of its 4 words) but not class 1,
    # where the rarer 'tax' wins.
    names = failure_map.cluster_names(
        ["apple apple apple pie", "apple tax", "tax law law law"], np.array([0, 1, 2]), terms=2
    )
    assert names == {0: ["apple", "pie"], 1: ["tax", "apple"], 2: ["law", "tax"]}


@pytest.mark.parametrize("clusterer", ["kmeans", "hdbscan"])
def test_two_topics_separate_and_the_worst_cluster_is_the_wrong_topic(store, clusterer):
    run_id, topic_of = two_topic_store(store)
    result = run_map_job(store, run_id, on="prompt", method="pca", clusterer=clusterer, k=2)
    with store() as s:
        labels = map_clusters(s, run_id)
        view = map_view(s, run_id)
    assert set(labels) == set(topic_of)
    clustered = [c for c in result["clusters"] if c["id"] != -1]
    assert len(clustered) >= 2
    # purity: each cluster's majority topic, summed over clusters, over clustered pairs
    majority = 0
    total = 0
    for c in clustered:
        topics = [topic_of[p] for p, lab in labels.items() if lab == c["id"]]
        majority += max(topics.count("cooking"), topics.count("taxes"))
        total += len(topics)
    assert majority / total >= 0.8
    worst = clustered[0] if clustered[0]["accuracy"]["value"] is not None else clustered[1]
    worst_members = [topic_of[p] for p, lab in labels.items() if lab == worst["id"]]
    assert worst_members.count("taxes") > len(worst_members) / 2
    assert set(worst["terms"]) & {"tax", "income", "return", "deduction", "file", "claim"}
    # accuracy with its Wilson interval from the pairs themselves
    gaps = {pt["pair_id"]: pt["gap"] for pt in view["points"]}
    right = sum(1 for p, lab in labels.items() if lab == worst["id"] and gaps[p] > 0)
    assert worst["accuracy"]["value"] == pytest.approx(right / worst["n"])
    assert worst["accuracy"]["ci_low"] <= worst["accuracy"]["value"] <= worst["accuracy"]["ci_high"]
    accs = [c["accuracy"]["value"] for c in view["clusters"]]
    assert accs == sorted(accs)  # worst first
    assert view["points_total"] == len(topic_of) and not view["sampled"]


def test_map_is_stored_once_per_run_and_points_are_bounded(store):
    run_id, topic_of = two_topic_store(store, 30)
    run_map_job(store, run_id, method="pca", k=3)
    run_map_job(store, run_id, on="diff", method="pca", k=2)
    with store() as s:
        view = map_view(s, run_id, max_points=25)
        assert len(map_clusters(s, run_id)) == len(topic_of)
    assert view["representation"] == "diff"
    assert len(view["clusters"]) == 2
    assert len(view["points"]) == 25 and view["sampled"] and view["points_total"] == 60
    point = view["points"][0]
    assert set(point) == {"pair_id", "x", "y", "cluster", "correct", "gap", "preview"}
    assert point["correct"] == (point["gap"] > 0)


def test_refusals(store):
    run_id, _ = two_topic_store(store, 5)
    with pytest.raises(ConfigError):
        run_map_job(store, run_id, on="nope")
    with pytest.raises(ConfigError):
        run_map_job(store, run_id, k=1)
    with store() as s:
        other = Run(kind="score", key="k2", status="done", config={})
        s.add(other)
        s.commit()
        other_id = other.id
    with pytest.raises(QueryError, match="--keep-states"):
        run_map_job(store, other_id)
    with store() as s, pytest.raises(NotFoundError, match="no map"):
        map_view(s, other_id)


def test_cli_map_prints_clusters_worst_first(store, tmp_path, db_url):
    run_id, _ = two_topic_store(store, 20)
    env = {"PREFLENS_DATABASE_URL": db_url, "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "preflens", "map", str(run_id), "--method", "pca", "--k", "2"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"map of run {run_id}: 40 pairs" in done.stdout
    assert "95% Wilson" in done.stdout
    bad = subprocess.run(cmd[:4] + ["--on", "nope"], capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_cases_of_one_cluster(store):
    from dashboard.state import CaseQuery, cases_link
    from db.read import search_cases

    run_id, _ = two_topic_store(store, 15)
    run_map_job(store, run_id, method="pca", k=2)
    with store() as s:
        labels = map_clusters(s, run_id)
        for c in (0, 1):
            page = search_cases(s, run_id, cluster=c, limit=100)
            want = sorted(p for p, lab in labels.items() if lab == c)
            assert sorted(i["pair_id"] for i in page["items"]) == want
            assert page["total"] == len(want)
    link = cases_link(run=run_id, cluster=1)
    assert "cluster=1" in link
    assert CaseQuery.from_params({"run": str(run_id), "cluster": "-1"}).cluster == -1
