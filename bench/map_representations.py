"""Which kept representation separates a reward model's failures best: the demo RM (the
demo's training settings, ``--keep-states`` on its after-training score run of the demo
test split) and the same RM scoring HH-RLHF harmless test pairs. For each representation
(prompt, diff = chosen - rejected, chosen): k-NN (k = 15, 5-fold) ROC AUC of predicting a
wrong pair from its vector, and the k-means map's cluster accuracies (worst, best, the
wrong pairs' share in clusters below the run's accuracy).

    PREFLENS_DATA_DIR=/tmp/maprep .venv/bin/python -m bench.map_representations \\
        --hh /work/shared/data/hh_rlhf_harmless_test_first1000.jsonl --hh-limit 400 \\
        --out bench/results/map_representations.json

``--runs demo=3 hh=4`` measures score runs already in the store (scored with
``--keep-states``; a run still scoring counts the pairs it has so far).
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path
from typing import Any

from bench.record import save_result

log = logging.getLogger("bench.map_representations")


def separation(make_session, run_id: int) -> dict[str, Any]:  # noqa: ANN001
    """Per representation: k-NN AUC of wrongness and the k-means clusters' accuracies."""
    from sklearn.model_selection import cross_val_predict
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.preprocessing import StandardScaler

    from db.read.maps import pair_states
    from preflens.failure_map import REPRESENTATIONS, representation
    from preflens.uncertainty import auc
    from training.jobs.map_pairs import run_map_job

    with make_session() as s:
        states = pair_states(s, run_id)
    wrong = states["gap"] <= 0
    out: dict[str, Any] = {"pairs": int(len(wrong)), "accuracy": float(1 - wrong.mean())}
    for on in REPRESENTATIONS:
        x = StandardScaler().fit_transform(representation(states, on))
        knn = KNeighborsClassifier(n_neighbors=15)
        p = cross_val_predict(knn, x, wrong, cv=5, method="predict_proba")[:, 1]
        t = time.perf_counter()
        m = run_map_job(make_session, run_id, on=on, method="pca")
        seconds = time.perf_counter() - t
        accs = [c["accuracy"]["value"] for c in m["clusters"]]
        below = [c for c in m["clusters"] if c["accuracy"]["value"] < out["accuracy"]]
        wrong_below = sum(round((1 - c["accuracy"]["value"]) * c["n"]) for c in below)
        out[on] = {
            "knn_auc_wrong": auc(p[wrong], p[~wrong]),
            "clusters": len(accs),
            "worst_cluster": {k: m["clusters"][0][k] for k in ("name", "n", "accuracy")},
            "best_accuracy": max(accs),
            "wrong_share_in_clusters_below_overall": wrong_below / max(int(wrong.sum()), 1),
            "pairs_in_clusters_below_overall": sum(c["n"] for c in below),
            "map_seconds": round(seconds, 3),
        }
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hh", type=Path, default=None)
    parser.add_argument("--hh-limit", type=int, default=400)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--runs",
        nargs="+",
        default=None,
        metavar="NAME=RUN",
        help="only measure these score runs with kept states (e.g. demo=3 hh=4) of the "
        "configured store; nothing is trained or scored",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    if args.runs:
        from db.migrate import open_store

        make_session = open_store()
        named = dict(item.split("=", 1) for item in args.runs)
        return save_result(
            args.out, **{name: separation(make_session, int(r)) for name, r in named.items()}
        )

    from db.migrate import open_store
    from preflens.config import EMBEDDED_MODEL_ALIAS, get_settings
    from training.configs import RMTrainConfig
    from training.demo_data import write_demo_dataset
    from training.jobs.demo import DEMO_DATASET, MAX_LENGTH, RM_DEMO
    from training.jobs.ingest import ingest
    from training.jobs.score import run_score_job
    from training.jobs.train_rm import train_rm

    make_session = open_store()
    data_file = get_settings().data_dir.resolve() / "demo" / "demo_prefs.jsonl"
    data_file.parent.mkdir(parents=True, exist_ok=True)
    write_demo_dataset(data_file)
    ingest(make_session, data_file, fmt="trl", name=DEMO_DATASET, progress=False)
    t = time.perf_counter()
    cfg = RMTrainConfig(
        dataset=DEMO_DATASET,
        model=EMBEDDED_MODEL_ALIAS,
        max_length=MAX_LENGTH,
        keep_states=True,
        **RM_DEMO,
    )
    rm_run = train_rm(make_session, cfg, progress=False).run
    train_seconds = time.perf_counter() - t
    after = rm_run.summary["scores"]["after"]["run"]
    result: dict[str, Any] = {"train_seconds": round(train_seconds, 1)}
    result["demo"] = separation(make_session, after)
    if args.hh:
        ingest(make_session, args.hh, name="hh", split="test", progress=False)
        t = time.perf_counter()
        hh = run_score_job(
            make_session,
            rm_run.summary["output"],
            "hh",
            "test",
            max_length=512,
            limit=args.hh_limit,
            keep_states=True,
            progress=False,
        )
        result["hh_score_seconds"] = round(time.perf_counter() - t, 1)
        result["hh"] = separation(make_session, hh.run.id)
    return save_result(args.out, **result)


if __name__ == "__main__":
    import json

    print(json.dumps(main(), indent=2))  # noqa: T201 - a script's own output
