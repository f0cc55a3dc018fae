"""The GPU benchmark: reward scoring, generation, ``/v1/score`` and training steps of a
Qwen2.5-0.5B-shaped model with random weights, in one run that writes JSON as it goes.

    python -m bench.gpu_run --out $OUT/gpu_run.json      # on the GPU machine (bench/gpu_run.sh)
    python -m bench.gpu_run --tiny --out /tmp/tiny.json  # the CPU rehearsal (a test runs it)

Parts run in order of importance and each is skipped once ``--deadline-s`` has passed, so
a slow part never costs the ones before it; the JSON is rewritten after every part.

- ``scoring``: reward scores of synthetic pairs (random token ids) at fixed lengths, in
  bfloat16 (and float32 with fewer pairs), fixed batches of 8 pairs against token-budget
  batches; pairs/s, real tokens/s and MFU = 2 x matmul parameters x real tokens / seconds
  / 989e12 (the H200's dense bfloat16 peak; the input embedding, a lookup, is not counted,
  nor attention's length-dependent products). ``forward_only`` times the passes alone
  (pre-built tensors), the ceiling the scoring loop's host work is measured against.
- ``mixed``: the same with lengths drawn uniformly from 64 to the longest length.
- ``api``: ``/v1/score`` of two real servers on loopback (micro-batching on, and off with
  ``PREFLENS_BATCH_MAX_SIZE=1``) under each client count, and one client alone, alternating
  between the servers (the latency the batcher's wait adds).
- ``train``: one RM step and one DPO step (``bench.gpu_train``).
- ``generation``: greedy generation of exactly ``new_tokens`` tokens (EOS suppressed) at each
  batch size: ``dynamic`` (transformers' default cache), ``static`` (a static cache, not
  compiled) and ``static_compiled`` (static cache; transformers compiles the decoding step
  on CUDA), tokens/s = batch x new tokens / seconds after a warm-up call of the same shape.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import logging
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from bench.gpu_api import api_part
from bench.gpu_model import matmul_params, save_checkpoint
from bench.record import save_result
from training.loading import load_policy, load_reward_model
from training.precision import assert_sdpa
from training.scoring import Encoded, pad_batch, reward_forward, score_encoded
from training.token_budget import gpu_token_budget

log = logging.getLogger("bench.gpu_run")
PEAK_FLOPS = 989e12  # H200 SXM dense bfloat16, vendor datasheet
FIXED_BATCH_SEQUENCES = 16  # 8 pairs, the score job's default batch


@dataclasses.dataclass(frozen=True)
class Plan:
    pairs: int
    fp32_pairs: int
    lengths: tuple[int, ...]
    gen_batches: tuple[int, ...]
    new_tokens: int
    gen_modes: tuple[str, ...]
    api_clients: tuple[int, ...]
    api_requests: int
    latency_requests: int
    train_pairs: int
    train_length: int
    train_steps: int
    cpu_budget: int  # token budget on a CPU, where there is no free GPU memory to size it


FULL = Plan(
    pairs=4096,
    fp32_pairs=256,  # float32 runs at about a fifteenth of the bfloat16 rate
    lengths=(128, 512, 1024),
    gen_batches=(1, 8, 64),
    new_tokens=256,
    gen_modes=("dynamic", "static", "static_compiled"),
    api_clients=(8, 32),
    api_requests=512,
    latency_requests=64,
    train_pairs=8,
    train_length=512,
    train_steps=3,
    cpu_budget=8192,
)
TINY = Plan(
    pairs=8,
    fp32_pairs=4,
    lengths=(16, 32),
    gen_batches=(1, 4),
    new_tokens=8,
    gen_modes=("dynamic", "static"),
    api_clients=(2, 4),
    api_requests=12,
    latency_requests=3,
    train_pairs=2,
    train_length=32,
    train_steps=1,
    cpu_budget=128,
)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def free_memory() -> None:
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def synthetic(n: int, lengths: np.ndarray, seed: int) -> list[Encoded]:
    """``n`` sequences of random byte-token ids with the given lengths."""
    rng = np.random.default_rng(seed)
    return [Encoded(rng.integers(0, 256, int(lengths[i])).tolist(), False) for i in range(n)]


def time_scoring(rm, enc: list[Encoded], budget: int, mparams: int) -> dict:  # noqa: ANN001
    """Score ``enc`` (pairs = len/2) with fixed batches (budget 0) or a token budget."""
    score_encoded(
        rm, enc[:FIXED_BATCH_SEQUENCES], batch_size=FIXED_BATCH_SEQUENCES, token_budget=budget
    )  # warm-up
    sync(rm.device)
    start = time.perf_counter()
    score_encoded(rm, enc, batch_size=FIXED_BATCH_SEQUENCES, token_budget=budget)
    sync(rm.device)
    seconds = time.perf_counter() - start
    tokens = sum(e.n_tokens for e in enc)
    return {
        "batching": "token_budget" if budget else f"fixed_{FIXED_BATCH_SEQUENCES}_sequences",
        "token_budget": budget or None,
        "pairs": len(enc) // 2,
        "real_tokens": tokens,
        "seconds": round(seconds, 6),
        "pairs_per_s": round(len(enc) / 2 / seconds, 2),
        "tokens_per_s": round(tokens / seconds),
        "mfu": float(f"{2 * mparams * tokens / seconds / PEAK_FLOPS:.4g}"),
    }


def forward_only(rm, length: int, rows: int, mparams: int, reps: int = 5) -> dict:  # noqa: ANN001
    """Passes of ``rows`` x ``length`` random tokens on pre-built tensors (no host work)."""
    ids, mask = pad_batch([[7] * length] * rows, 0)
    ids, mask = ids.to(rm.device), mask.to(rm.device)
    with torch.inference_mode():
        reward_forward(rm.model, ids, mask)
        sync(rm.device)
        start = time.perf_counter()
        for _ in range(reps):
            reward_forward(rm.model, ids, mask)
        sync(rm.device)
    seconds = (time.perf_counter() - start) / reps
    tokens = rows * length
    return {
        "rows": rows,
        "tokens_per_s": round(tokens / seconds),
        "mfu": float(f"{2 * mparams * tokens / seconds / PEAK_FLOPS:.4g}"),
    }


def scoring_part(
    ckpt: Path, device: torch.device, plan: Plan, dtype: torch.dtype, pairs: int, mixed: bool
) -> dict:
    """Fixed lengths (or mixed lengths) at one dtype: fixed batches against the budget."""
    rm = load_reward_model(str(ckpt), device=device)
    rm.model.to(dtype)
    mparams = matmul_params(rm.model)
    attn = rm.model.config._attn_implementation
    assert_sdpa(rm.model)  # the figures are SDPA's
    budget = gpu_token_budget(rm.model, device) if device.type == "cuda" else plan.cpu_budget
    rows = []
    rng = np.random.default_rng(0)
    for length in ("mixed",) if mixed else plan.lengths:
        if length == "mixed":
            top = max(plan.lengths)  # uniform from top/16 (64 of 1024) to top
            lengths = rng.integers(top // 16, top + 1, 2 * pairs)
        else:
            lengths = np.full(2 * pairs, length)
        enc = synthetic(2 * pairs, lengths, seed=1)
        for b in (0, budget):
            row = {
                "length": length,
                "dtype": str(dtype).removeprefix("torch."),
                **time_scoring(rm, enc, b, mparams),
            }
            rows.append(row)
            log.info("%s", row)
        if not mixed and dtype is torch.bfloat16:
            fwd = forward_only(rm, int(length), max(1, budget // int(length)), mparams)
            rows.append({"length": length, "dtype": "bfloat16", "batching": "forward_only", **fwd})
    del rm
    free_memory()
    return {
        "matmul_params": mparams,
        "token_budget": budget,
        "attn_implementation": attn,
        # float32 products on tensor cores (TF32) are off unless asked for: plain float32.
        "tf32_matmul": torch.backends.cuda.matmul.allow_tf32,
        "rows": rows,
    }


def generation_part(
    ckpt: Path, device: torch.device, plan: Plan, modes: tuple[str, ...], stop_at: float
) -> list:
    """Greedy tokens/s of the policy at each batch size and cache mode; a (mode, batch)
    not begun by the monotonic time ``stop_at`` is recorded as skipped."""
    policy = load_policy(str(ckpt), "bench", device=str(device))
    model = policy.model
    rows = []
    for mode in modes:
        for batch in plan.gen_batches:
            if time.monotonic() > stop_at:
                rows.append({"mode": mode, "batch": batch, "skipped": "past the deadline"})
                continue
            gen = torch.Generator().manual_seed(batch)
            ids = torch.randint(0, 256, (batch, 32), generator=gen).to(device)
            kwargs = {
                "attention_mask": torch.ones_like(ids),
                "do_sample": False,
                "max_new_tokens": plan.new_tokens,
                "min_new_tokens": plan.new_tokens,  # exactly this many (random weights)
                "pad_token_id": policy.tokenizer.pad_token_id,
            }
            if mode != "dynamic":
                kwargs["cache_implementation"] = "static"
                kwargs["disable_compile"] = mode == "static"
            # A compiled step is warmed up at the timed call's very shape (its static
            # cache is sized by max_new_tokens); an eager one needs only a short call.
            warm_tokens = plan.new_tokens if mode == "static_compiled" else min(8, plan.new_tokens)
            warm_kwargs = {**kwargs, "max_new_tokens": warm_tokens, "min_new_tokens": warm_tokens}
            with torch.inference_mode():
                warm = time.perf_counter()
                model.generate(ids, **warm_kwargs)
                sync(device)
                warm = time.perf_counter() - warm
                start = time.perf_counter()
                out = model.generate(ids, **kwargs)
                sync(device)
            seconds = time.perf_counter() - start
            new = (out.shape[1] - ids.shape[1]) * batch
            row = {
                "mode": mode,
                "batch": batch,
                "new_tokens": new,
                "seconds": round(seconds, 3),
                "tokens_per_s": round(new / seconds, 1),
                "warmup_new_tokens_per_row": warm_tokens,
                "warmup_seconds": round(warm, 2),
            }
            rows.append(row)
            log.info("%s", row)
    del policy, model
    free_memory()
    return rows


def train_part(ckpt: Path, device: torch.device, plan: Plan) -> dict:
    from transformers import AutoModelForCausalLM

    from bench.gpu_train import dpo_step, rm_step  # the trainers' imports: only this part

    rm = load_reward_model(str(ckpt), device=device).model
    out = {"rm": rm_step(rm, plan.train_pairs, plan.train_length, plan.train_steps)}
    del rm
    free_memory()
    policy = AutoModelForCausalLM.from_pretrained(str(ckpt)).to(device)
    reference = AutoModelForCausalLM.from_pretrained(str(ckpt)).to(device)
    out["dpo"] = dpo_step(policy, reference, plan.train_pairs, plan.train_length, plan.train_steps)
    del policy, reference
    free_memory()
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="CPU rehearsal: tiny model, counts")
    parser.add_argument("--out", type=Path, required=True, help="JSON written after each part")
    parser.add_argument("--device", help="default: cuda when present, else cpu")
    parser.add_argument(
        "--deadline-s",
        type=float,
        default=360.0,
        help="skip the parts not started by then (default: %(default)s)",
    )
    parser.add_argument(
        "--parts",
        nargs="+",
        default=["scoring", "mixed", "api", "train", "generation", "fp32", "compiled"],
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    t0 = time.monotonic()
    plan = TINY if args.tiny else FULL
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    import transformers

    result: dict = {
        "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
        "device": str(device),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "tiny": args.tiny,
        "plan": dataclasses.asdict(plan),
        "peak_flops_used_for_mfu": PEAK_FLOPS,
        "parts_done": [],
        "parts_skipped": [],
    }
    work = Path(tempfile.mkdtemp(prefix="preflens-gpu-run-"))
    ckpt = save_checkpoint(work / "model", args.tiny, str(device))
    # Inside a part, what has not begun 90 s after the deadline is skipped too.
    stop_at = t0 + args.deadline_s + 90
    eager_modes = tuple(m for m in plan.gen_modes if m != "static_compiled")
    compiled_modes = tuple(m for m in plan.gen_modes if m == "static_compiled")
    jobs = {
        "scoring": lambda: scoring_part(ckpt, device, plan, torch.bfloat16, plan.pairs, False),
        "mixed": lambda: scoring_part(ckpt, device, plan, torch.bfloat16, plan.pairs, True),
        "api": lambda: api_part(ckpt, device, plan, work / "data"),
        "train": lambda: train_part(ckpt, device, plan),
        "generation": lambda: generation_part(ckpt, device, plan, eager_modes, stop_at),
        "fp32": lambda: scoring_part(ckpt, device, plan, torch.float32, plan.fp32_pairs, False),
        "compiled": lambda: generation_part(ckpt, device, plan, compiled_modes, stop_at),
    }
    for name in args.parts:
        if time.monotonic() - t0 > args.deadline_s:
            result["parts_skipped"].append(name)
            continue
        start = time.monotonic()
        try:
            result[name] = jobs[name]()
        except Exception as exc:  # noqa: BLE001 - one failed part must not lose the others
            log.exception("part %s failed", name)
            result[name] = {"error": f"{type(exc).__name__}: {exc}"[:500]}
        result[f"{name}_seconds"] = round(time.monotonic() - start, 1)
        result["parts_done"].append(name)
        result["total_seconds"] = round(time.monotonic() - t0, 1)
        save_result(args.out, **result)
        log.info("part %s done in %.1f s", name, result[f"{name}_seconds"])
    return json.loads(args.out.read_text()) if args.out.exists() else result


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
