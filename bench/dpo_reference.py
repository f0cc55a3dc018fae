"""DPO step time with precomputed reference log-probs against a live reference model.

Both runs train the embedded policy with the same DPO config (``preflens train-dpo``'s
trainer, sigmoid loss, batch 8, fp32 on CPU) on the same HH-RLHF pairs (the first pairs of
the shared file, the same file ``bench.score_throughput`` reads). A live reference runs a
forward pass of a frozen copy every step; a precomputed one computes the reference
log-probs of every pair once, when the trainer is built (inside ``setup_seconds``).
Per-step wall times come from a trainer callback (step begin to step end); the first step
is reported apart (it warms up the allocator), and the speed-up is the ratio of the summed
later steps: both runs draw the same batches in the same order. Run on an otherwise idle
machine:

    .venv/bin/python -m bench.dpo_reference --pairs 40 --steps 5 \\
        --out bench/results/dpo_reference.json
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from pathlib import Path

import torch
from transformers import TrainerCallback

from bench.record import save_result
from bench.score_throughput import HH_FILE, hh_records
from preflens.config import EMBEDDED_MODEL_ALIAS
from training.configs import DPOTrainConfig
from training.jobs.train_dpo import build_trainer, preference_rows
from training.loading import load_policy

log = logging.getLogger("bench.dpo_reference")


class StepTimes(TrainerCallback):
    """Wall seconds of every optimizer step."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self._start = 0.0

    def on_step_begin(self, args, state, control, **kwargs):  # noqa: ANN001, ANN003, ARG002
        self._start = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):  # noqa: ANN001, ANN003, ARG002
        self.seconds.append(time.perf_counter() - self._start)


def one_run(rows: list[dict], steps: int, max_length: int, precompute: bool, model: str) -> dict:
    torch.manual_seed(0)
    policy = load_policy(model, "policy", device="cpu")
    cfg = DPOTrainConfig(
        dataset="bench",
        max_steps=steps,
        max_length=max_length,
        logging_steps=1,
        precompute_ref=precompute,
    )
    timer = StepTimes()
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        trainer = build_trainer(
            cfg, policy.model, policy.tokenizer, rows, [], out, [timer], progress=False
        )
        setup = time.perf_counter() - start
        trainer.train()
    later = timer.seconds[1:] or timer.seconds
    return {
        "reference": "precomputed" if precompute else "live",
        "reference_model_kept": getattr(trainer, "ref_model", None) is not None,
        "setup_seconds": round(setup, 2),
        "steps": len(timer.seconds),
        "first_step_seconds": round(timer.seconds[0], 2),
        "median_step_seconds_after_first": round(statistics.median(later), 2),
        "step_seconds": [round(s, 2) for s in timer.seconds],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=40, help="training pairs (8 per step)")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--model", default=EMBEDDED_MODEL_ALIAS, help="policy to train")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    rows = preference_rows(hh_records(args.pairs))
    runs = []
    for precompute in (False, True):
        runs.append(one_run(rows, args.steps, args.max_length, precompute, args.model))
        log.info("%s", runs[-1])
    live, pre = runs
    result = save_result(
        args.out,
        torch=torch.__version__,
        threads=torch.get_num_threads(),
        data=HH_FILE.name,
        pairs=len(rows),
        batch_size=8,
        max_length=args.max_length,
        model=args.model,
        runs=runs,
        # Both runs draw the same batches in the same order (same seed), so step i of one
        # compares with step i of the other; the first step (warm-up) is left out.
        step_speedup=round(sum(live["step_seconds"][1:]) / sum(pre["step_seconds"][1:]), 3),
        per_step_speedup=[
            round(a / b, 2) for a, b in zip(live["step_seconds"], pre["step_seconds"], strict=True)
        ],
    )
    log.info("steps 2.. live / precomputed: %.2fx", result["step_speedup"])


if __name__ == "__main__":
    main()
