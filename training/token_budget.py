"""Scoring batches on a GPU sized by a token budget instead of a fixed pair count.

On a GPU a forward pass costs little beyond its matrix work, so the right batch is as
many rows as fit: sequences are sorted by length and packed while ``rows x padded
length`` (the tokens the pass computes, padding included) stays within a budget that
comes from the free GPU memory. On a CPU ``training.scoring.padding_aware_batches``
keeps its measured pass-cost split.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Bytes of live activations per token of a scoring pass, per byte of the dtype, as
# multiples of the model's widths. Under ``torch.inference_mode`` a layer's activations
# are freed as soon as the next layer has read them, so the number of layers does not
# enter: at the peak one layer's tensors are alive: the residual stream, the norm's
# output, q/k/v, the attention output and its projection (12 hidden-wide tensors
# counted with the allocator's slack), and the MLP's gate, up and their product
# (3 intermediate-wide tensors). SDPA's fused kernels keep attention memory linear in the
# length (no length x length score matrix).
HIDDEN_TENSORS = 12
INTERMEDIATE_TENSORS = 3
# Share of the free memory a budget may use (the rest: fragmentation, the head, other
# requests' passes), and a cap: past about 64k tokens a pass is already compute-bound,
# and a bigger one only delays the first results.
MEMORY_FRACTION = 0.5
MAX_BUDGET_TOKENS = 65_536
MIN_BUDGET_TOKENS = 1_024


def bytes_per_token(hidden_size: int, intermediate_size: int, dtype_bytes: int) -> int:
    """Peak activation bytes one token of a scoring pass holds (see the constants above)."""
    return dtype_bytes * (HIDDEN_TENSORS * hidden_size + INTERMEDIATE_TENSORS * intermediate_size)


def budget_from_memory(
    free_bytes: int,
    hidden_size: int,
    intermediate_size: int,
    dtype_bytes: int,
    *,
    fraction: float = MEMORY_FRACTION,
    cap: int = MAX_BUDGET_TOKENS,
) -> int:
    """Padded tokens per pass: ``fraction`` of the free memory over the bytes a token
    needs, clamped to [MIN_BUDGET_TOKENS, cap]."""
    per_token = bytes_per_token(hidden_size, intermediate_size, dtype_bytes)
    return int(min(cap, max(MIN_BUDGET_TOKENS, fraction * free_bytes // per_token)))


def gpu_token_budget(model, device) -> int:  # noqa: ANN001 - a transformers model, a device
    """The token budget for ``model`` on the CUDA ``device``, from its free memory now."""
    import torch

    free, _total = torch.cuda.mem_get_info(device)
    cfg = model.config
    hidden = cfg.hidden_size
    inter = getattr(cfg, "intermediate_size", None) or 4 * hidden
    dtype_bytes = next(model.parameters()).element_size()
    return budget_from_memory(free, hidden, inter, dtype_bytes)


def token_budget_batches(
    lengths: Sequence[int], budget: int, max_rows: int | None = None
) -> list[list[int]]:
    """Index batches in which ``rows x longest length <= budget`` (and at most ``max_rows``
    rows), built over the items sorted longest first, each batch as full as the budget
    allows. A single item longer than the budget gets a batch of its own. Every index
    appears exactly once; callers put results back by index, so input order is kept.

    Greedy filling over the sorted order gives the fewest batches among partitions into
    consecutive runs of that order: a batch's cost is set by its first (longest) item, so
    taking more items never leaves the next batch worse off.
    """
    if budget < 1:
        raise ValueError("the token budget must be at least 1")
    order = np.argsort(-np.asarray(lengths, dtype=np.int64), kind="stable").tolist()
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        longest = lengths[current[0]] if current else lengths[i]
        full = max_rows is not None and len(current) >= max_rows
        if current and (full or (len(current) + 1) * longest > budget):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches
