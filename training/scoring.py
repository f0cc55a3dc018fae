"""Reward scoring: chat-formatted encoding, length-sorted batches, the resumable score job.

The score of a response is the scalar head's output at the last non-padding token,
found from the attention mask (not from the pad id: SmolLM2's pad token is also its
end-of-turn token, which ends every templated response). Positions are counted from
the mask, so left- and right-padded batches give the same scores.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from training.loading import RewardModel
from training.precision import float32_head
from training.token_budget import gpu_token_budget, token_budget_batches

log = logging.getLogger(__name__)

Messages = list[dict[str, str]]


@dataclass(frozen=True)
class Encoded:
    """A tokenized (prompt, response) conversation, ready to score."""

    ids: list[int]
    truncated: bool

    @property
    def n_tokens(self) -> int:
        return len(self.ids)


def conversation_text(tokenizer: PreTrainedTokenizerBase, prompt: Messages, response: str) -> str:
    """The prompt and the response as one chat-templated string (as the RM is trained on)."""
    messages = [*prompt, {"role": "assistant", "content": response}]
    return tokenizer.apply_chat_template(messages, tokenize=False)


def encode(
    tokenizer: PreTrainedTokenizerBase, prompt: Messages, response: str, max_length: int
) -> Encoded:
    """Tokenize one conversation; over ``max_length`` keep the end (the score reads it)."""
    text = conversation_text(tokenizer, prompt, response)
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    if len(ids) > max_length:
        return Encoded(ids[-max_length:], True)
    return Encoded(ids, False)


def response_tokens(tokenizer: PreTrainedTokenizerBase, response: str) -> int:
    """Tokens of the response text alone (no template, no prompt, no special tokens)."""
    return len(tokenizer(response, add_special_tokens=False)["input_ids"])


def shuffled_length_chunks(
    lengths: Sequence[int], batch_size: int, seed: int, token_budget: int | None = None
) -> list[list[int]]:
    """Index batches of similar lengths (sorted, so padding stays small) in a seeded random
    order of batches: a run in progress has scored a sample of every length, not the
    longest items first, so its partial numbers are not length-biased. With
    ``token_budget`` (a GPU) a batch holds as many items as ``rows x longest`` allows
    instead of ``batch_size``."""
    if token_budget:
        batches = token_budget_batches(lengths, token_budget)
    else:
        batches = length_batches(lengths, batch_size)
    order = np.random.default_rng(seed).permutation(len(batches))
    return [batches[i] for i in order]


def pad_batch(
    seqs: Sequence[Sequence[int]], pad_id: int, side: str = "right"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad token id lists into (input_ids, attention_mask) tensors."""
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        if side == "left":
            ids[i, width - len(s) :] = torch.tensor(s, dtype=torch.long)
            mask[i, width - len(s) :] = 1
        else:
            ids[i, : len(s)] = torch.tensor(s, dtype=torch.long)
            mask[i, : len(s)] = 1
    return ids, mask


def _hidden(
    model: PreTrainedModel, input_ids: torch.Tensor, attention_mask: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The backbone's last hidden states and each row's last real position."""
    backbone = getattr(model, model.base_model_prefix)
    position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)
    hidden = backbone(
        input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids
    ).last_hidden_state
    positions = torch.arange(attention_mask.shape[-1], device=attention_mask.device)
    return hidden, (positions * attention_mask).argmax(-1)


def reward_forward(
    model: PreTrainedModel, input_ids: torch.Tensor, attention_mask: torch.Tensor
) -> torch.Tensor:
    """Scalar rewards, shape [batch]: the score head at each row's last real token."""
    hidden, last = _hidden(model, input_ids, attention_mask)
    pooled = hidden[torch.arange(hidden.shape[0], device=hidden.device), last]
    # Read in float32 whatever the weights' dtype (a bfloat16 head rounds to 3 digits).
    return float32_head(model.score, pooled).squeeze(-1)


def reward_forward_states(
    model: PreTrainedModel,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    extra: torch.Tensor,
    projection: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Rewards as ``reward_forward``, plus from the same pass the projected state the head
    reads (``hidden @ projection``) and the projected state at position ``extra[i]`` of
    each row (column index in the padded batch)."""
    hidden, last = _hidden(model, input_ids, attention_mask)
    rows = torch.arange(hidden.shape[0], device=hidden.device)
    pooled = hidden[rows, last]
    scores = float32_head(model.score, pooled).squeeze(-1)
    proj = projection.to(device=hidden.device, dtype=torch.float32)
    return scores, pooled.float() @ proj, hidden[rows, extra.to(hidden.device)].float() @ proj


def length_batches(lengths: Sequence[int], batch_size: int, sort: bool = True) -> list[list[int]]:
    """Index batches; sorted by length (longest first) so each batch pads little."""
    order = np.argsort(-np.asarray(lengths), kind="stable") if sort else np.arange(len(lengths))
    return [order[i : i + batch_size].tolist() for i in range(0, len(order), batch_size)]


def padding_aware_batches(
    lengths: Sequence[int],
    max_batch: int,
    pass_overhead_tokens: float,
    max_pass_tokens: int | None = None,
) -> list[list[int]]:
    """Split items into batches of similar length that minimise the modelled cost.

    A forward pass is modelled as costing ``pass_overhead_tokens + rows * longest``
    token-units: sharing a pass saves the overhead, padding to the longest row wastes
    compute. Over the items sorted by length, dynamic programming finds the cheapest cut
    into consecutive batches of at most ``max_batch`` (exact for this model; O(n^2) on a
    micro-batch of a few dozen items). Equal lengths end in one pass; one very long item
    among short ones gets a pass of its own. ``max_pass_tokens`` caps rows x longest of a
    pass of two or more rows (very large passes run slower per token on a CPU). An
    infinite overhead gives plain ``length_batches``.
    """
    n = len(lengths)
    if n == 0:
        return []
    if not np.isfinite(pass_overhead_tokens):  # padding costs nothing next to a pass
        return length_batches(lengths, max_batch)
    order = np.argsort(np.asarray(lengths), kind="stable")
    ls = [lengths[i] for i in order]
    best = [0.0] + [float("inf")] * n
    cut = [0] * (n + 1)
    for j in range(1, n + 1):
        for i in range(max(0, j - max_batch), j):
            rows = j - i
            if max_pass_tokens is not None and rows > 1 and rows * ls[j - 1] > max_pass_tokens:
                continue
            cost = best[i] + pass_overhead_tokens + rows * ls[j - 1]
            if cost < best[j]:
                best[j], cut[j] = cost, i
    batches = []
    j = n
    while j > 0:
        batches.append(order[cut[j] : j].tolist())
        j = cut[j]
    return batches[::-1]


@torch.inference_mode()
def score_encoded(
    rm: RewardModel,
    encoded: Sequence[Encoded],
    batch_size: int = 8,
    padding_side: str = "right",
    sort_by_length: bool = True,
    token_budget: int | None = None,
) -> np.ndarray:
    """Score encoded conversations; results come back in input order.

    On a CUDA device passes are packed by a token budget (``rows x padded length``, from
    the free GPU memory; ``training.token_budget``) and ``batch_size`` is not used;
    elsewhere batches hold ``batch_size`` sequences. ``token_budget`` overrides: 0 means
    fixed batches on any device, a positive number that budget on any device.
    """
    out = np.empty(len(encoded), dtype=np.float64)
    if not encoded:
        return out
    pad_id = rm.tokenizer.pad_token_id
    lengths = [e.n_tokens for e in encoded]
    if token_budget is None and rm.device.type == "cuda":
        token_budget = gpu_token_budget(rm.model, rm.device)
    if token_budget:
        batches = token_budget_batches(lengths, token_budget)
    else:
        batches = length_batches(lengths, batch_size, sort_by_length)
    for batch in batches:
        ids, mask = pad_batch([encoded[i].ids for i in batch], pad_id, padding_side)
        scores = reward_forward(rm.model, ids.to(rm.device), mask.to(rm.device))
        out[batch] = scores.cpu().numpy()
    return out


@torch.inference_mode()
def score_encoded_states(
    rm: RewardModel,
    encoded: Sequence[Encoded],
    extra_positions: Sequence[int],
    projection: np.ndarray,
    padding_side: str = "right",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Score encoded conversations in one pass and keep their projected states: (scores,
    state the head reads, state at ``extra_positions[i]`` of sequence ``i``), input order."""
    ids, mask = pad_batch([e.ids for e in encoded], rm.tokenizer.pad_token_id, padding_side)
    width = ids.shape[1]
    cols = [
        p + (width - e.n_tokens if padding_side == "left" else 0)
        for p, e in zip(extra_positions, encoded, strict=True)
    ]
    scores, last, extra = reward_forward_states(
        rm.model,
        ids.to(rm.device),
        mask.to(rm.device),
        torch.tensor(cols, dtype=torch.long),
        torch.from_numpy(projection),
    )
    return scores.cpu().numpy().astype(np.float64), last.cpu().numpy(), extra.cpu().numpy()


def shared_prefix_end(a: Sequence[int], b: Sequence[int]) -> int:
    """Position of the last token two sequences share from the start (the end of the
    prompt for a pair's two conversations; causal attention makes the state there depend
    on nothing after it), 0 when they differ from the first token."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return max(0, min(n, len(a), len(b)) - 1)


def score_texts(
    rm: RewardModel,
    prompts: Sequence[Messages],
    responses: Sequence[str],
    max_length: int = 512,
    batch_size: int = 8,
    padding_side: str = "right",
) -> list[tuple[float, Encoded]]:
    """Score (prompt, response) pairs; returns (score, encoding) per item in input order."""
    encoded = [
        encode(rm.tokenizer, p, r, max_length) for p, r in zip(prompts, responses, strict=True)
    ]
    scores = score_encoded(rm, encoded, batch_size, padding_side)
    return [(float(s), e) for s, e in zip(scores, encoded, strict=True)]


BatchCallback = Callable[[int], None]
