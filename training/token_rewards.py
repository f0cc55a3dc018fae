"""Per-token reward: the score head applied to every hidden state, in one forward pass.

A reward model scores a conversation by its scalar head at the last real token. The
same head applied at every earlier position gives a value per token; in a causal model
the hidden state at a token has read only the text up to and including it, so the value
at a response token is what the head says about the conversation cut there.

What a prefix value means, and what it does not: a Bradley-Terry reward model is trained
only on the value at the last token of complete conversations. The values at earlier
positions are never trained towards anything; they are the head's reading of a state it
was not fitted on. They show *where* the final score's evidence appears (a jump at a
phrase, a drift over a long answer) and are comparable token to token within one
response, but a prefix value is not a calibrated reward for the unfinished text, and
differences between prefixes are not credit assignment. Only the last value is the
model's score (it equals ``training.scoring``'s sequence score, tested for left and right
padding).

The pieces returned are the response's tokens followed by the template's end-of-turn
tokens (where the score is read), as text: concatenated, the pieces give back the
response and the end-of-turn marker exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from training.loading import RewardModel
from training.scoring import Messages, conversation_text, pad_batch


@dataclass(frozen=True)
class TokenValue:
    """One token as text and the head's value at it."""

    text: str
    value: float
    response: bool  # False for the end-of-turn tokens the template adds after the response


@dataclass(frozen=True)
class TokenRewards:
    """The per-token values of one conversation's response."""

    tokens: list[TokenValue]
    score: float  # the value at the last token: the sequence score
    n_tokens: int  # tokens of the templated conversation as scored
    truncated: bool  # the conversation was cut to its last max_length tokens


@dataclass(frozen=True)
class _Encoded:
    ids: list[int]
    pieces: list[tuple[str, bool]]  # (text, is_response) for each token from the response on
    first: int  # index in ``ids`` of the first piece
    truncated: bool


def _response_start(tokenizer: PreTrainedTokenizerBase, prompt: Messages, text: str) -> int:
    """Character offset of the response in the templated conversation ``text``."""
    head = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=False)
    if text.startswith(head):
        return len(head)
    # A template whose generation prompt is not a prefix of the whole conversation: take
    # the longest common prefix (the same rule TRL uses to split prompt and completion).
    n = 0
    for a, b in zip(head, text, strict=False):
        if a != b:
            break
        n += 1
    return n


def encode_with_pieces(
    tokenizer: PreTrainedTokenizerBase, prompt: Messages, response: str, max_length: int
) -> _Encoded:
    """Tokenize like ``training.scoring.encode`` (same ids, same truncation: keep the end)
    and cut the text from the response on into one piece per token."""
    text = conversation_text(tokenizer, prompt, response)
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids, offsets = list(enc["input_ids"]), list(enc["offset_mapping"])
    start = _response_start(tokenizer, prompt, text)
    end = start + len(response)
    truncated = len(ids) > max_length
    if truncated:
        ids, offsets = ids[-max_length:], offsets[-max_length:]
    first = next((i for i, (_, e) in enumerate(offsets) if e > start), len(ids))
    pieces: list[tuple[str, bool]] = []
    seen = start
    for s, e in offsets[first:]:
        # Byte-level tokens of one character share its span: each piece takes only what
        # the earlier pieces have not, so the pieces concatenate back to the text.
        lo = max(s, seen)
        pieces.append((text[lo:e] if e > lo else "", s < end))
        seen = max(seen, e)
    return _Encoded(ids, pieces, first, truncated)


def token_values(
    model: PreTrainedModel, input_ids: torch.Tensor, attention_mask: torch.Tensor
) -> torch.Tensor:
    """The score head at every position, shape [batch, seq] (padding positions hold
    meaningless values). Positions are counted from the mask, as ``reward_forward``
    does, so a left-padded row gives the values of the same row right-padded."""
    backbone = getattr(model, model.base_model_prefix)
    position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)
    hidden = backbone(
        input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids
    ).last_hidden_state
    return model.score(hidden).squeeze(-1).float()


def encode_items(
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[Messages],
    responses: Sequence[str],
    max_length: int,
) -> list[_Encoded]:
    """Each (prompt, response) tokenized and cut like a score (``len(e.ids)`` is what a
    per-token pass costs, for a caller's budget)."""
    return [
        encode_with_pieces(tokenizer, p, r, max_length)
        for p, r in zip(prompts, responses, strict=True)
    ]


@torch.inference_mode()
def values_of_encoded(
    rm: RewardModel,
    encoded: Sequence[_Encoded],
    padding_side: str = "right",
    max_pass_tokens: int | None = None,
) -> list[TokenRewards]:
    """Per-token values of encoded items, in passes of at most ``max_pass_tokens``
    padded tokens (None: one pass), so a long request never holds the hidden states of
    all its items at once; each pass's tensors are dropped before the next."""
    out: list[TokenRewards] = []
    for group in _passes([len(e.ids) for e in encoded], max_pass_tokens):
        out.extend(_one_pass(rm, [encoded[i] for i in group], padding_side))
    return out


def _passes(lengths: list[int], max_pass_tokens: int | None) -> list[list[int]]:
    """Consecutive items grouped so that rows x longest row <= ``max_pass_tokens``."""
    groups: list[list[int]] = []
    current: list[int] = []
    longest = 0
    for i, n in enumerate(lengths):
        wider = max(longest, n)
        if current and max_pass_tokens is not None and wider * (len(current) + 1) > max_pass_tokens:
            groups.append(current)
            current, wider = [], n
        current.append(i)
        longest = wider
    if current:
        groups.append(current)
    return groups


def _one_pass(rm: RewardModel, encoded: list[_Encoded], padding_side: str) -> list[TokenRewards]:
    ids, mask = pad_batch([e.ids for e in encoded], rm.tokenizer.pad_token_id, padding_side)
    values = token_values(rm.model, ids.to(rm.device), mask.to(rm.device)).cpu()
    width = ids.shape[1]
    out = []
    for row, e in enumerate(encoded):
        offset = width - len(e.ids) if padding_side == "left" else 0
        row_values = values[row, offset : offset + len(e.ids)].tolist()
        tokens = [
            TokenValue(text, float(v), is_response)
            for (text, is_response), v in zip(e.pieces, row_values[e.first :], strict=True)
        ]
        out.append(TokenRewards(tokens, float(row_values[-1]), len(e.ids), e.truncated))
    return out


def per_token_rewards(
    rm: RewardModel,
    prompts: Sequence[Messages],
    responses: Sequence[str],
    max_length: int = 512,
    padding_side: str = "right",
    max_pass_tokens: int | None = None,
) -> list[TokenRewards]:
    """Per-token values of each (prompt, response) (one forward pass unless
    ``max_pass_tokens`` splits it)."""
    if not prompts:
        return []
    encoded = encode_items(rm.tokenizer, prompts, responses, max_length)
    return values_of_encoded(rm, encoded, padding_side, max_pass_tokens)
