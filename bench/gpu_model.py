"""A Qwen2.5-0.5B-shaped checkpoint with random weights, built from its config (no hub),
and a byte-level tokenizer, for the GPU benchmark (``bench.gpu_run``); ``tiny`` gives a
2-layer model of the same family for the CPU rehearsal.

Random weights cost the same FLOPs as trained ones, so speed and memory figures hold;
the scores and generated texts mean nothing.
"""

from __future__ import annotations

from pathlib import Path

import torch

# Qwen2.5-0.5B's published architecture (its config.json), about 494M parameters.
QWEN25_05B = {
    "vocab_size": 151_936,
    "hidden_size": 896,
    "intermediate_size": 4_864,
    "num_hidden_layers": 24,
    "num_attention_heads": 14,
    "num_key_value_heads": 2,
    "max_position_embeddings": 32_768,
    "rope_theta": 1_000_000.0,
    "rms_norm_eps": 1e-6,
    "tie_word_embeddings": True,
}
TINY = {
    **QWEN25_05B,
    "vocab_size": 512,
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 2_048,
}
CHATML = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{{ message['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
SPECIALS = ["<|im_start|>", "<|im_end|>", "<pad>"]


def byte_tokenizer():
    """One token per UTF-8 byte (no merges), plus ChatML's special tokens: a text's token
    count is its byte count, so request sizes are exact without a trained vocabulary."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    vocab = {ch: i for i, ch in enumerate(alphabet)}
    for tok in SPECIALS:
        vocab[tok] = len(vocab)
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    tok.decoder = decoders.ByteLevel()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
        pad_token="<pad>",
        additional_special_tokens=SPECIALS,
    )
    fast.chat_template = CHATML
    return fast


def model_config(tiny: bool):
    from transformers import Qwen2Config

    tokenizer_ids = {"bos_token_id": 256, "eos_token_id": 257, "pad_token_id": 258}
    return Qwen2Config(**(TINY if tiny else QWEN25_05B), **tokenizer_ids)


def save_checkpoint(path: Path, tiny: bool, device: str, seed: int = 0) -> Path:
    """Write the random-weight causal LM (bfloat16 on a GPU, float32 on a CPU) and the
    tokenizer to ``path``; initialised on ``device`` (fast on a GPU)."""
    from transformers import Qwen2ForCausalLM

    torch.manual_seed(seed)
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    with torch.device(device):
        model = Qwen2ForCausalLM(model_config(tiny)).to(dtype)
    model.save_pretrained(path)
    byte_tokenizer().save_pretrained(path)
    del model
    return path


def matmul_params(model: torch.nn.Module) -> int:
    """Parameters that take part in matrix products for every token: all but the input
    embedding (a table lookup). The model FLOPs of a forward pass are 2 x this x tokens
    (attention's own length-dependent products not counted)."""
    embed = model.get_input_embeddings().weight
    return sum(p.numel() for p in model.parameters() if p is not embed)
