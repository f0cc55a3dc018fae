"""Builders for tests: a tiny tokenizer and random-initialised tiny models, data files."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

CORPUS = [
    "The capital of France is Paris.",
    "I cannot help with that request, but here is a safer idea.",
    "Water boils at one hundred degrees Celsius at sea level.",
    "Sure, here is how you can do it step by step.",
    "What is the tallest mountain on Earth? Mount Everest is the tallest.",
    "Please explain photosynthesis in simple words.",
    "user assistant system hello world thanks",
]
CHATML = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{{ message['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def make_tokenizer(with_pad: bool = False):
    """A byte-level BPE tokenizer (about 400 tokens) with a ChatML template; no pad token
    unless asked, so tests see PrefLens set one."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<unk>", "<|im_start|>", "<|im_end|>", "<pad>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(CORPUS * 5, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="<unk>",
        eos_token="<|im_end|>",
        bos_token="<|im_start|>",
        pad_token="<pad>" if with_pad else None,
    )
    fast.chat_template = CHATML
    return fast


def make_tiny_lm_dir(path: Path, seed: int = 0) -> Path:
    """Save a random-initialised 2-layer Llama causal LM with the tiny tokenizer."""
    import torch
    from transformers import LlamaForCausalLM

    tokenizer = make_tokenizer()
    config = tiny_llama_config(tokenizer, tie_word_embeddings=True)
    torch.manual_seed(seed)
    LlamaForCausalLM(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def tiny_llama_config(tokenizer=None, tie_word_embeddings: bool = False, **extra):  # noqa: ANN001, ANN201
    """A 2-layer, 32-wide Llama config over the tiny tokenizer's vocabulary (``tokenizer``,
    made when not given); ``extra`` attributes are set on it afterwards (``num_labels``)."""
    from transformers import LlamaConfig

    tokenizer = tokenizer or make_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=tie_word_embeddings,
    )
    for key, value in extra.items():
        setattr(config, key, value)
    return config


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write((row if isinstance(row, str) else json.dumps(row)) + "\n")
    return path


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def trl_rows(n: int, category: str | None = None) -> list[dict[str, Any]]:
    """n distinct prompt/chosen/rejected rows of varied lengths."""
    rows = []
    for i in range(n):
        row = {
            "prompt": f"Question number {i}: what is {i} plus {i}?" + " Please explain." * (i % 4),
            "chosen": f"{i} plus {i} is {2 * i}." + " That is the answer." * (i % 3),
            "rejected": f"I am not sure about {i}." + " Maybe ask someone else." * (i % 5),
        }
        if category:
            row["category"] = category
        rows.append(row)
    return rows


def make_stopping_lm_dir(path: Path, answer: str = "ok", steps: int = 30) -> Path:
    """A tiny causal LM trained for a few steps to answer every chat prompt with
    ``answer`` followed by the end-of-turn token, so greedy generation stops by itself."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    make_tiny_lm_dir(path)
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path)
    texts = [
        tok.apply_chat_template(
            [{"role": "user", "content": c}], tokenize=False, add_generation_prompt=True
        )
        + answer
        + "<|im_end|>"
        for c in CORPUS
    ]
    batch = [tok(t, add_special_tokens=False)["input_ids"] for t in texts]
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(steps):
        for ids in batch:
            x = torch.tensor([ids])
            loss = model(input_ids=x, labels=x).loss
            loss.backward()
            opt.step()
            opt.zero_grad()
    model.save_pretrained(path)
    return path


class Boom(RuntimeError):
    """An injected failure (to stop a job part-way and resume it)."""


def ingest_test_split(make_session, tmp_path: Path, name: str, n: int) -> str:
    """Ingest ``n`` rows of ``trl_rows`` as dataset ``name``, all in the test split."""
    from training.jobs.ingest import ingest

    path = write_jsonl(tmp_path / f"{name}.jsonl", trl_rows(n))
    ingest(make_session, path, name=name, split="test", progress=False)
    return name
