"""One optimiser step of reward-model training and of DPO on the benchmark model: seconds
per step and peak GPU memory, to tell what fits on a smaller card (``bench.gpu_run``).

Both steps are what the training jobs do per step, written out in plain torch so they
run without the trainers' data pipelines: float32 master weights under bfloat16 autocast
(what ``bf16=True`` gives in the trainers), AdamW, the whole model trained. The RM step is
the Bradley-Terry loss of ``training.jobs.train_rm`` over ``reward_forward``; the DPO step
runs the policy with gradients and a frozen bfloat16 reference without, on the same
chosen and rejected sequences, with a sigmoid DPO loss.
"""

from __future__ import annotations

import statistics
import time

import torch
import torch.nn.functional as F

from training.jobs.train_rm import pairwise_loss
from training.scoring import reward_forward


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def completion_logps(
    model: torch.nn.Module, ids: torch.Tensor, completion: torch.Tensor
) -> torch.Tensor:
    """Summed log-probabilities of the tokens marked in ``completion`` (next-token
    targets), one per row; differentiable."""
    logits = model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits[:, :-1].float()
    targets = ids[:, 1:]
    token = logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1) - logits.logsumexp(-1)
    return (token * completion[:, 1:]).sum(-1)


def _timed_steps(step, device: torch.device, steps: int) -> dict:  # noqa: ANN001
    """Run ``step`` once to warm up, then ``steps`` times; median seconds and the peak
    memory the timed steps allocated (torch's allocator, not the whole process)."""
    step()
    _sync(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        _sync(device)
        times.append(time.perf_counter() - start)
    peak = torch.cuda.max_memory_allocated(device) if device.type == "cuda" else None
    return {
        "timed_steps": steps,
        "seconds_per_step_median": round(statistics.median(times), 4),
        "seconds_per_step_all": [round(t, 4) for t in times],
        "peak_allocated_gib": None if peak is None else round(peak / 2**30, 2),
    }


def _autocast(device: torch.device):  # noqa: ANN202
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")


def rm_step(model: torch.nn.Module, pairs: int, length: int, steps: int) -> dict:
    """Seconds and peak memory of an RM step on ``pairs`` pairs of ``length`` tokens."""
    device = next(model.parameters()).device
    model.float().train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-5)
    gen = torch.Generator().manual_seed(1)
    ids = torch.randint(0, 256, (2 * pairs, length), generator=gen).to(device)
    mask = torch.ones_like(ids)

    def step() -> None:
        with _autocast(device):
            loss, _, _ = pairwise_loss(reward_forward(model, ids, mask))
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    out = _timed_steps(step, device, steps)
    return {"pairs": pairs, "tokens_per_sequence": length, **out}


def dpo_step(
    policy: torch.nn.Module, reference: torch.nn.Module, pairs: int, length: int, steps: int
) -> dict:
    """Seconds and peak memory of a DPO step: ``pairs`` pairs of ``length`` tokens each
    side, the first quarter of each sequence the prompt, the rest the completion."""
    device = next(policy.parameters()).device
    policy.float().train()
    reference.to(torch.bfloat16 if device.type == "cuda" else torch.float32).eval()
    for p in reference.parameters():
        p.requires_grad_(False)
    opt = torch.optim.AdamW(policy.parameters(), lr=5e-7)
    gen = torch.Generator().manual_seed(2)
    ids = torch.randint(0, 256, (2 * pairs, length), generator=gen).to(device)
    completion = torch.zeros_like(ids)
    completion[:, length // 4 :] = 1
    beta = 0.1

    def step() -> None:
        with torch.no_grad(), _autocast(device):
            ref = completion_logps(reference, ids, completion)
        with _autocast(device):
            pol = completion_logps(policy, ids, completion)
        margin = (pol[:pairs] - ref[:pairs]) - (pol[pairs:] - ref[pairs:])
        loss = -F.logsigmoid(beta * margin).mean()
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    out = _timed_steps(step, device, steps)
    return {"pairs": pairs, "tokens_per_sequence": length, "beta": beta, **out}
