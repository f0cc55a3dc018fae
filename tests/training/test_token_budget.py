"""Token-budget packing for GPU scoring: budget respected, every item once, the fewest
batches (against an independent dynamic program), scores back in input order."""

from __future__ import annotations

import numpy as np
import pytest

from training.loading import load_reward_model
from training.scoring import encode, score_encoded
from training.token_budget import (
    MAX_BUDGET_TOKENS,
    MIN_BUDGET_TOKENS,
    budget_from_memory,
    bytes_per_token,
    token_budget_batches,
)


def fewest_batches(lengths: list[int], budget: int, max_rows: int | None) -> int:
    """Oracle: the fewest cuts of the longest-first order into consecutive runs that fit,
    by dynamic programming over every cut (independent of the greedy packer)."""
    ls = sorted(lengths, reverse=True)
    n = len(ls)
    best = [0] + [n + 1] * n
    for j in range(1, n + 1):
        for i in range(j):
            rows = j - i
            fits = rows == 1 or rows * ls[i] <= budget
            if fits and (max_rows is None or rows <= max_rows):
                best[j] = min(best[j], best[i] + 1)
    return best[n]


@pytest.mark.parametrize("seed", range(25))
def test_packing_respects_budget_and_is_minimal(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 40))
    lengths = rng.integers(1, 300, n).tolist()
    budget = int(rng.integers(50, 1200))
    max_rows = None if seed % 3 else int(rng.integers(1, 6))
    batches = token_budget_batches(lengths, budget, max_rows)
    flat = [i for b in batches for i in b]
    assert sorted(flat) == list(range(n))  # every item exactly once
    for b in batches:
        assert len(b) == 1 or len(b) * max(lengths[i] for i in b) <= budget
        assert max_rows is None or len(b) <= max_rows
    assert len(batches) == fewest_batches(lengths, budget, max_rows)


def test_packing_extremes():
    assert token_budget_batches([], 100) == []
    assert token_budget_batches([500, 10], 100) == [[0], [1]]  # too long: a batch alone
    assert token_budget_batches([10] * 10, 100) == [list(range(10))]
    assert token_budget_batches([10] * 10, 99) == [list(range(9)), [9]]
    with pytest.raises(ValueError):
        token_budget_batches([1], 0)


def test_budget_from_memory_formula():
    # Qwen2.5-0.5B widths in bfloat16: 2 x (12 x 896 + 3 x 4864) bytes a token.
    assert bytes_per_token(896, 4864, 2) == 2 * (12 * 896 + 3 * 4864)
    free = 10 * 2**30
    expect = int(0.5 * free // (2 * (12 * 896 + 3 * 4864)))
    assert budget_from_memory(free, 896, 4864, 2, cap=10**9) == expect
    assert budget_from_memory(free, 896, 4864, 2) == MAX_BUDGET_TOKENS
    assert budget_from_memory(1, 896, 4864, 2) == MIN_BUDGET_TOKENS
    # twice the bytes per token, half the budget
    assert budget_from_memory(free, 896, 4864, 4, cap=10**9) == int(
        0.5 * free // (4 * (12 * 896 + 3 * 4864))
    )


def test_budget_scoring_keeps_input_order(tiny_lm):
    rm = load_reward_model(str(tiny_lm), device="cpu", head_seed=0)
    prompts = [[{"role": "user", "content": "Hello" + " there" * (i % 5)}] for i in range(11)]
    responses = ["Sure." + " Water boils." * ((i * 7) % 6) for i in range(11)]
    enc = [encode(rm.tokenizer, p, r, 512) for p, r in zip(prompts, responses, strict=True)]
    assert len({e.n_tokens for e in enc}) > 3
    alone = score_encoded(rm, enc, batch_size=1, token_budget=0)
    budget = 3 * max(e.n_tokens for e in enc)
    assert len(token_budget_batches([e.n_tokens for e in enc], budget)) > 2
    packed = score_encoded(rm, enc, token_budget=budget)
    assert len(set(np.round(alone, 6))) == len(alone)
    np.testing.assert_allclose(packed, alone, atol=1e-5)


def test_job_chunks_follow_the_budget_in_a_seeded_order():
    from training.scoring import shuffled_length_chunks

    lengths = np.random.default_rng(4).integers(5, 200, 60).tolist()
    chunks = shuffled_length_chunks(lengths, 8, seed=3, token_budget=2000)
    packed = token_budget_batches(lengths, 2000)
    assert sorted(map(tuple, chunks)) == sorted(map(tuple, packed))
    assert chunks != packed  # the order of chunks is shuffled
    assert chunks == shuffled_length_chunks(lengths, 8, seed=3, token_budget=2000)
    assert any(len(c) > 8 for c in chunks)  # the budget, not batch_size, sets the size
