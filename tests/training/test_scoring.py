"""Reward scoring with a tiny random model: padding, batching, pad token, seeded head."""

from __future__ import annotations

import numpy as np
import pytest

from preflens.errors import ModelError
from training.fetch import resolve_model
from training.loading import load_reward_model, load_tokenizer
from training.scoring import (
    encode,
    length_batches,
    padding_aware_batches,
    score_encoded,
    score_texts,
)

PROMPTS = [
    [{"role": "user", "content": "What is the capital of France?" + " Please." * i}]
    for i in range(7)
]
RESPONSES = ["Paris." * (1 + i % 3) + " It is on the Seine." * (i % 4) for i in range(7)]


@pytest.fixture(scope="module")
def rm(tiny_lm):
    return load_reward_model(str(tiny_lm), device="cpu", head_seed=0)


def test_pad_token_is_set_when_missing(tiny_lm):
    from transformers import AutoTokenizer

    assert AutoTokenizer.from_pretrained(str(tiny_lm)).pad_token is None
    tok = load_tokenizer(str(tiny_lm))
    assert tok.pad_token is not None and tok.pad_token_id == tok.eos_token_id


def test_left_and_right_padding_give_equal_scores(rm):
    right = [s for s, _ in score_texts(rm, PROMPTS, RESPONSES, padding_side="right")]
    left = [s for s, _ in score_texts(rm, PROMPTS, RESPONSES, padding_side="left")]
    alone = [s for s, _ in score_texts(rm, PROMPTS, RESPONSES, batch_size=1)]
    assert len(set(np.round(right, 6))) == len(right), "scores should differ between texts"
    np.testing.assert_allclose(left, right, atol=1e-5)
    np.testing.assert_allclose(alone, right, atol=1e-5)


def test_sorted_and_unsorted_batching_agree(rm):
    enc = [encode(rm.tokenizer, p, r, 512) for p, r in zip(PROMPTS, RESPONSES, strict=True)]
    lengths = [e.n_tokens for e in enc]
    assert len(set(lengths)) > 3, "the batch must mix lengths for this test to mean anything"
    a = score_encoded(rm, enc, batch_size=3, sort_by_length=True)
    b = score_encoded(rm, enc, batch_size=3, sort_by_length=False)
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_score_reads_the_last_real_token(rm):
    """Changing the end of a response changes its score; padding never does."""
    (s1, _), (s2, _) = score_texts(rm, PROMPTS[:2], ["Paris.", "Paris!"])
    assert s1 != pytest.approx(s2, abs=1e-6)


def test_truncation_keeps_the_end_and_is_flagged(rm):
    long_response = "word " * 300 + "final"
    enc = encode(rm.tokenizer, PROMPTS[0], long_response, max_length=32)
    full = encode(rm.tokenizer, PROMPTS[0], long_response, max_length=10_000)
    assert enc.truncated and enc.n_tokens == 32 and not full.truncated
    assert enc.ids == full.ids[-32:]


def test_untrained_head_is_seeded(tiny_lm, rm):
    again = load_reward_model(str(tiny_lm), device="cpu", head_seed=0)
    other = load_reward_model(str(tiny_lm), device="cpu", head_seed=1)
    assert rm.head_initialized
    a = [s for s, _ in score_texts(rm, PROMPTS, RESPONSES)]
    assert a == [s for s, _ in score_texts(again, PROMPTS, RESPONSES)]
    assert a != [s for s, _ in score_texts(other, PROMPTS, RESPONSES)]


def test_resolve_model_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="no config.json"):
        resolve_model(tmp_path / "empty")
    with pytest.raises(ModelError, match="GGUF file not found"):
        resolve_model(tmp_path / "missing.gguf")
    with pytest.raises(ModelError, match="neither a checkpoint folder"):
        resolve_model("./no/such/dir")
    assert resolve_model("Qwen/Qwen2.5-0.5B-Instruct") == "Qwen/Qwen2.5-0.5B-Instruct"


def test_embedded_model_scores_padding_invariant(embedded_model):
    rm = load_reward_model(str(embedded_model), device="cpu")
    assert rm.tokenizer.pad_token == "<|im_end|>" and rm.head_initialized
    prompts, responses = PROMPTS[:3], RESPONSES[:3]
    right = [s for s, _ in score_texts(rm, prompts, responses, padding_side="right")]
    left = [s for s, _ in score_texts(rm, prompts, responses, padding_side="left")]
    np.testing.assert_allclose(left, right, atol=1e-5)
    text = rm.tokenizer.apply_chat_template(
        [*prompts[0], {"role": "assistant", "content": responses[0]}], tokenize=False
    )
    assert "<|im_start|>assistant" in text and text.rstrip().endswith("<|im_end|>")


def test_gguf_file_is_converted_once_and_loads(embedded_model, tmp_path, monkeypatch):
    """A .gguf argument is dequantized into the cache and gives the pulled model's scores."""
    from preflens.config import EMBEDDED_MODEL_GGUF, get_settings

    gguf = embedded_model.parent / "_downloads" / "gguf" / EMBEDDED_MODEL_GGUF
    if not gguf.is_file():
        pytest.skip(f"{gguf} not present (the model was pulled elsewhere)")
    monkeypatch.setenv("PREFLENS_MODEL_CACHE", str(tmp_path / "cache"))
    get_settings.cache_clear()
    path = resolve_model(gguf)
    assert path.startswith(str(tmp_path / "cache")) and resolve_model(gguf) == path
    converted = load_reward_model(gguf, device="cpu")
    pulled = load_reward_model(str(embedded_model), device="cpu")
    a = [s for s, _ in score_texts(converted, PROMPTS[:2], RESPONSES[:2])]
    b = [s for s, _ in score_texts(pulled, PROMPTS[:2], RESPONSES[:2])]
    np.testing.assert_allclose(a, b, atol=1e-5)


def _set_partitions(items):
    """Every partition of ``items`` into non-empty blocks (an independent enumeration)."""
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for part in _set_partitions(rest):
        yield [[first], *part]
        for k in range(len(part)):
            yield [*part[:k], [first, *part[k]], *part[k + 1 :]]


@pytest.mark.parametrize("seed", range(16))
def test_padding_aware_batches_are_the_cheapest_partition(seed):
    """Against brute force over every set partition (not only cuts of the sorted order):
    the dynamic programme's cost is the minimum, it covers each item once, and it keeps
    to ``max_batch``."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 8))
    lengths = rng.integers(1, 400, n).tolist()
    max_batch = int(rng.integers(1, 5))
    overhead = float(rng.choice([0.0, 16.0, 64.0, 500.0]))
    cap = [None, 600][seed % 2]

    def cost(parts):
        return sum(overhead + len(b) * max(lengths[i] for i in b) for b in parts)

    def allowed(block):
        fits = cap is None or len(block) == 1 or len(block) * max(lengths[i] for i in block) <= cap
        return len(block) <= max_batch and fits

    got = padding_aware_batches(lengths, max_batch, overhead, cap)
    assert sorted(i for b in got for i in b) == list(range(n))
    assert all(1 <= len(b) and allowed(b) for b in got)
    best = min(cost(p) for p in _set_partitions(list(range(n))) if all(map(allowed, p)))
    assert cost(got) == pytest.approx(best)


def test_padding_aware_batches_extremes():
    assert padding_aware_batches([], 8, 64.0) == []
    # equal lengths share one pass; a far longer item gets its own
    assert padding_aware_batches([50] * 6, 8, 64.0) == [list(range(6))]
    assert sorted(map(sorted, padding_aware_batches([20, 20, 20, 400], 8, 64.0))) == [
        [0, 1, 2],
        [3],
    ]
    # no overhead: every pass holds one length; infinite overhead: plain length batches
    assert len(padding_aware_batches([5, 6, 7], 8, 0.0)) == 3
    assert padding_aware_batches([5, 9, 7], 2, float("inf")) == length_batches([5, 9, 7], 2)
    # a cap on rows x longest splits equal lengths that would make too large a pass
    capped = padding_aware_batches([300] * 8, 8, 64.0, 2048)
    assert len(capped) == 2 and max(map(len, capped)) <= 6
    assert padding_aware_batches([3000], 8, 64.0, 2048) == [[0]]  # one row always fits
