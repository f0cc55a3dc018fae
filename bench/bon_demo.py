"""Over training and over sampling on the embedded model and the demo set, timed:
``train-rm --eval-every`` with the demo's RM settings (a checkpoint series), then
``bon --n 8`` on 40 demo test prompts with that RM as proxy and the untrained-head
embedded model as gold; then a second gold, an RM trained the same way on a disjoint set
of train pairs (the next 240 of the train split, ingested as dataset ``demo-b``), scoring
the same answers (the bon run's samples and proxy scores are reused). Every step goes
through the ``preflens`` command line in one data folder (a rerun reuses finished
steps); the printed output, the times and the curves are saved.

    python -m bench.bon_demo --data-dir /tmp/bon-demo --out bench/results/bon_demo.json
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.record import save_result

log = logging.getLogger("bench.bon_demo")


def _run(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "preflens", *args], env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"preflens {' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    return seconds, proc.stdout


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path("bench/results/bon_demo.json"))
    parser.add_argument("--n", type=int, default=8)
    parser.add_argument("--prompts", type=int, default=40)
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--eval-every", type=int, default=10)
    a = parser.parse_args()
    env = {**os.environ, "PREFLENS_DATA_DIR": str(a.data_dir), "HF_HUB_OFFLINE": "1"}
    # the embedded model already converted in the default data folder, not a second copy
    env.setdefault("PREFLENS_MODEL_CACHE", str(Path(".preflens/models").resolve()))
    env.pop("PREFLENS_DATABASE_URL", None)
    from training.demo_data import write_demo_dataset
    from training.jobs.demo import MAX_LENGTH, RM_DEMO

    data = a.data_dir / "demo_prefs.jsonl"
    data.parent.mkdir(parents=True, exist_ok=True)
    write_demo_dataset(data)
    steps = {}
    steps["ingest"] = _run(["ingest", str(data), "--name", "demo"], env)
    rm_out = a.data_dir / "rm-demo"
    train = ["train-rm", "--dataset", "demo", "--max-length", str(MAX_LENGTH)]
    train += ["--output", str(rm_out), "--eval-every", str(a.eval_every)]
    for key, value in RM_DEMO.items():
        train += [f"--{key.replace('_', '-')}", str(value)]
    steps["train_rm_eval_every"] = _run(train, env)
    log.info("trained in %.0f s", steps["train_rm_eval_every"][0])
    bon = ["bon", "--policy", "base=smollm2-135m-instruct", "--rm", str(rm_out)]
    bon += ["--gold-rm", "smollm2-135m-instruct", "--dataset", "demo", "--n", str(a.n)]
    bon += ["--limit", str(a.prompts), "--max-new-tokens", str(a.max_new_tokens)]
    bon += ["--max-length", str(MAX_LENGTH)]
    steps["bon"] = _run(bon, env)
    log.info("bon in %.0f s", steps["bon"][0])
    runs_out = _run(["runs"], env)[1]
    train_id = next(
        line.split()[0] for line in runs_out.splitlines() if " train_rm " in f" {line} "
    )
    steps["diagnose_series"] = _run(["diagnose", train_id], env)
    # Gold 2: the demo RM's recipe on train pairs the proxy never saw.
    rows = [json.loads(line) for line in data.read_text(encoding="utf-8").splitlines()]
    train_rows = [r for r in rows if r["split"] == "train"]
    limit = int(RM_DEMO["limit"])
    disjoint = [r for r in rows if r["split"] == "test"] + train_rows[limit : 2 * limit]
    data_b = a.data_dir / "demo_b.jsonl"
    data_b.write_text("".join(json.dumps(r) + "\n" for r in disjoint), encoding="utf-8")
    steps["ingest_b"] = _run(["ingest", str(data_b), "--name", "demo-b"], env)
    gold_b = a.data_dir / "rm-demo-b"
    train_b = ["train-rm", "--dataset", "demo-b", "--max-length", str(MAX_LENGTH)]
    train_b += ["--output", str(gold_b), "--no-score-before"]
    for key, value in RM_DEMO.items():
        train_b += [f"--{key.replace('_', '-')}", str(value)]
    steps["train_rm_disjoint_gold"] = _run(train_b, env)
    log.info("trained the disjoint gold in %.0f s", steps["train_rm_disjoint_gold"][0])
    bon_b = [*bon]
    bon_b[bon_b.index("--gold-rm") + 1] = str(gold_b)
    steps["bon_disjoint_gold"] = _run(bon_b, env)
    log.info("bon with the disjoint gold in %.0f s", steps["bon_disjoint_gold"][0])
    save_result(
        a.out,
        command=" ".join(sys.argv),
        settings={
            "n": a.n,
            "prompts": a.prompts,
            "max_new_tokens": a.max_new_tokens,
            "eval_every": a.eval_every,
            "rm": RM_DEMO,
            "max_length": MAX_LENGTH,
        },
        seconds={k: round(v[0], 1) for k, v in steps.items()},
        output={k: v[1] for k, v in steps.items()},
    )
    print(json.dumps({k: round(v[0], 1) for k, v in steps.items()}))  # noqa: T201


if __name__ == "__main__":
    main()
