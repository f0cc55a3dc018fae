"""Which floating-point type a model's weights are loaded in, and reading scores in float32.

``auto`` (the default) gives bfloat16 on a CUDA device that supports it and float32
everywhere else: on a CPU bfloat16 is emulated and over 10x slower (pitfalls), and a GPU
without bfloat16 (before Ampere) would overflow in float16 more easily than it gains.
``--dtype`` on the command line or ``PREFLENS_DTYPE`` chooses one type for every model.
"""

from __future__ import annotations

import logging

import torch

from preflens.errors import ModelError

log = logging.getLogger(__name__)

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
DTYPE_CHOICES = ("auto", *DTYPES)


def cuda_bf16_supported() -> bool:
    """Whether the current CUDA device computes in bfloat16 natively (compute capability 8+)."""
    if not torch.cuda.is_available():
        return False
    return bool(torch.cuda.is_bf16_supported(including_emulation=False))


def choose_dtype(
    device: str | torch.device,
    override: str | None = None,
    *,
    bf16_supported: bool | None = None,
) -> torch.dtype:
    """The dtype to load weights in on ``device``.

    ``override`` is one of ``DTYPE_CHOICES`` (None: the ``PREFLENS_DTYPE`` setting, whose
    default is ``auto``). ``bf16_supported`` says whether the CUDA device has bfloat16
    (None: ask torch); it is a parameter so the choice can be checked without a GPU.
    """
    if override is None:
        from preflens.config import get_settings

        override = get_settings().dtype
    if override not in DTYPE_CHOICES:
        raise ModelError(f"unknown dtype {override!r}; expected one of {', '.join(DTYPE_CHOICES)}")
    kind = torch.device(device).type
    if bf16_supported is None:
        bf16_supported = kind == "cuda" and cuda_bf16_supported()
    if override == "auto":
        return torch.bfloat16 if kind == "cuda" and bf16_supported else torch.float32
    dtype = DTYPES[override]
    if dtype is torch.bfloat16 and kind == "cuda" and not bf16_supported:
        raise ModelError("this GPU has no bfloat16; use --dtype float16 or float32")
    if dtype is not torch.float32 and kind == "cpu":
        log.warning("%s on a CPU is emulated and much slower than float32", override)
    return dtype


def float32_head(head: torch.nn.Module, hidden: torch.Tensor) -> torch.Tensor:
    """Apply a linear score head in float32 (weights and input cast up, autocast off), so a
    bfloat16 model's scores keep float32's resolution in the last step. Differentiable:
    the casts pass gradients back to bfloat16 weights. A head that reads itself in float32
    (``training.rm_layouts.ScalarHead``, which also applies a framework's normalisation)
    is called as it is."""
    if getattr(head, "reads_float32", False):
        return head(hidden)
    bias = head.bias.float() if getattr(head, "bias", None) is not None else None
    with torch.autocast(hidden.device.type, enabled=False):
        return torch.nn.functional.linear(hidden.float(), head.weight.float(), bias)


def assert_sdpa(model: torch.nn.Module, strict: bool = True) -> None:
    """Attention runs through PyTorch's scaled_dot_product_attention (transformers' default);
    checked so a config that asks for the eager path is noticed instead of running slowly.
    ``strict=False`` (the loaders) logs a warning instead of refusing the model: an
    architecture without SDPA support still works, only slower."""
    impl = getattr(getattr(model, "config", None), "_attn_implementation", None)
    if impl is not None and impl != "sdpa":
        if strict:
            raise ModelError(f"attention implementation is {impl!r}, expected 'sdpa'")
        log.warning("attention runs through %r, not PyTorch's SDPA: slower", impl)
