"""Per-token reward on a tiny random model: the last value is the sequence score."""

from __future__ import annotations

import numpy as np
import pytest

from training.loading import load_reward_model
from training.scoring import encode, score_encoded, score_texts
from training.token_rewards import per_token_rewards

PROMPTS = [
    [{"role": "user", "content": "What is the capital of France?" + " Please." * i}]
    for i in range(5)
]
RESPONSES = [
    "Paris.",
    "The capital of France is Paris. It is on the Seine.",
    "I cannot help with that request, but here is a safer idea.",
    "",
    "Café crème — naïve résumé ☕ 東京",
]


@pytest.fixture(scope="module")
def rm(tiny_lm):
    return load_reward_model(str(tiny_lm), device="cpu", head_seed=0)


@pytest.mark.parametrize("side", ["left", "right"])
def test_last_value_equals_the_sequence_score(rm, side):
    scores = [s for s, _ in score_texts(rm, PROMPTS, RESPONSES, padding_side="right")]
    out = per_token_rewards(rm, PROMPTS, RESPONSES, padding_side=side)
    assert len(set(np.round(scores, 6))) == len(scores), "scores must differ for the test to bite"
    np.testing.assert_allclose([t.tokens[-1].value for t in out], scores, atol=1e-5)
    np.testing.assert_allclose([t.score for t in out], scores, atol=1e-5)


def test_pieces_spell_the_response_then_the_end_of_turn(rm):
    for response, result in zip(RESPONSES, per_token_rewards(rm, PROMPTS, RESPONSES), strict=True):
        text = "".join(t.text for t in result.tokens if t.response)
        assert text == response
        tail = "".join(t.text for t in result.tokens if not t.response)
        assert tail.startswith("<|im_end|>")
        # the response pieces come first, the template's closing tokens after them
        flags = [t.response for t in result.tokens]
        assert flags == sorted(flags, reverse=True)


def test_a_prefix_value_reads_only_the_text_up_to_it(rm):
    """The value at token k equals the sequence score of the conversation cut after k."""
    ((result,),) = [per_token_rewards(rm, PROMPTS[1:2], RESPONSES[1:2])]
    enc = encode(rm.tokenizer, PROMPTS[1], RESPONSES[1], 512)
    first = enc.n_tokens - len(result.tokens)
    prefixes = [type(enc)(enc.ids[: first + k + 1], False) for k in range(len(result.tokens))]
    direct = score_encoded(rm, prefixes, batch_size=4)
    np.testing.assert_allclose([t.value for t in result.tokens], direct, atol=1e-5)


def test_truncation_keeps_the_end_like_the_scorer(rm):
    long = "word " * 200 + "final."
    (result,) = per_token_rewards(rm, PROMPTS[:1], [long], max_length=32)
    ((score, enc),) = score_texts(rm, PROMPTS[:1], [long], max_length=32)
    assert result.truncated and enc.truncated and result.n_tokens == 32
    assert result.tokens[-1].value == pytest.approx(score, abs=1e-5)
    assert len(result.tokens) <= 32
