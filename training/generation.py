"""Answer prompts with policies: chat template, left-padded batches, finish reasons.

``generate_answers`` is shared by the ``generate`` job and the HTTP service. An answer's
finish reason is ``stop`` when the policy produced an end-of-sequence / end-of-turn
token within the budget and ``length`` when it was cut at ``max_new_tokens`` (answers
cut at the limit are what runs on into unrelated text, so they are flagged).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from preflens.config import get_settings
from training.loading import Policy

log = logging.getLogger(__name__)
Messages = list[dict[str, str]]


@dataclass
class Answer:
    text: str
    n_tokens: int  # generated tokens, without the stop token
    finish_reason: str  # "stop" | "length"
    seconds: float  # the batch's wall time divided among its answers


def stop_token_ids(policy: Policy) -> list[int]:
    """End-of-sequence ids from the tokenizer and the generation config, plus the
    ChatML end-of-turn token when the vocabulary has one."""
    ids: set[int] = set()
    tok = policy.tokenizer
    if tok.eos_token_id is not None:
        ids.add(int(tok.eos_token_id))
    gen_eos = getattr(policy.model.generation_config, "eos_token_id", None)
    if gen_eos is not None:
        ids.update(int(i) for i in (gen_eos if isinstance(gen_eos, list) else [gen_eos]))
    end_turn = tok.convert_tokens_to_ids("<|im_end|>")
    if isinstance(end_turn, int) and end_turn != tok.unk_token_id:
        ids.add(end_turn)
    return sorted(ids)


@torch.inference_mode()
def generate_answers(
    policy: Policy,
    prompts: Sequence[Messages],
    *,
    max_new_tokens: int = 512,
    temperature: float = 0.7,
    top_p: float = 0.9,
    seed: int = 0,
) -> list[Answer]:
    """Answer every prompt in one left-padded batch. ``temperature`` 0 means greedy."""
    tok = policy.tokenizer
    texts = [
        tok.apply_chat_template(list(p), tokenize=False, add_generation_prompt=True)
        for p in prompts
    ]
    enc = tok(
        texts, return_tensors="pt", padding=True, padding_side="left", add_special_tokens=False
    ).to(policy.device)
    stops = stop_token_ids(policy)
    sampling = (
        {"do_sample": True, "temperature": temperature, "top_p": top_p}
        if temperature > 0
        else {"do_sample": False}
    )
    cache = {"cache_implementation": "static"} if get_settings().generate_cache == "static" else {}
    torch.manual_seed(seed)
    start = time.perf_counter()
    out = policy.model.generate(
        **enc,
        max_new_tokens=max_new_tokens,
        eos_token_id=stops,
        pad_token_id=tok.pad_token_id,
        **sampling,
        **cache,
    )
    seconds = (time.perf_counter() - start) / max(len(prompts), 1)
    new_tokens = out[:, enc["input_ids"].shape[1] :].tolist()
    answers = []
    for row in new_tokens:
        end = next((i for i, t in enumerate(row) if t in stops), None)
        kept = row if end is None else row[:end]
        reason = "stop" if end is not None else "length"
        text = tok.decode(kept, skip_special_tokens=True).strip()
        answers.append(Answer(text, len(kept), reason, seconds))
    return answers
