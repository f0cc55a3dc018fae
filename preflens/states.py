"""Compact state vectors kept by ``score --keep-states``.

The hidden state the reward head reads (width ``hidden_size``, e.g. 576 for SmolLM2-135M)
is multiplied by a fixed Gaussian random matrix ``R`` of shape ``hidden x dims`` (entries
N(0, 1/dims), drawn from ``numpy.random.default_rng(seed)``), so distances are kept up to a
small factor (Johnson-Lindenstrauss) and the same model, seed and dims always give the same
projection. Vectors are stored as little-endian float16: ``2 x dims`` bytes per vector.
Three vectors a pair (prompt, chosen, rejected) at 64 dims are 384 bytes of data per pair
(about 0.4 GB for a million pairs, plus the store's row overhead).
``score-generations --keep-states`` keeps one vector per answer (the state at the last
token of prompt + answer): 128 bytes an answer.
"""

from __future__ import annotations

import numpy as np

MAX_DIMS = 64
DEFAULT_DIMS = 64
PROJECTION_SEED = 0
_DTYPE = np.dtype("<f2")


def projection(
    hidden_size: int, dims: int = DEFAULT_DIMS, seed: int = PROJECTION_SEED
) -> np.ndarray:
    """The fixed ``hidden_size x dims`` random projection (float32)."""
    if not 1 <= dims <= MAX_DIMS:
        raise ValueError(f"state dims must be 1..{MAX_DIMS}, got {dims}")
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((hidden_size, dims)) / np.sqrt(dims)).astype(np.float32)


def pack(vector: np.ndarray) -> bytes:
    """One vector as little-endian float16 bytes (values beyond float16's range saturate)."""
    v = np.clip(np.asarray(vector, dtype=np.float32), -65504.0, 65504.0)
    return v.astype(_DTYPE).tobytes()


def unpack(blobs: list[bytes]) -> np.ndarray:
    """Stacked vectors (float32, ``len(blobs) x dims``) from packed bytes."""
    if not blobs:
        return np.zeros((0, 0), dtype=np.float32)
    return np.frombuffer(b"".join(blobs), dtype=_DTYPE).reshape(len(blobs), -1).astype(np.float32)


def bytes_per_pair(dims: int = DEFAULT_DIMS) -> int:
    """Bytes of vector data one pair costs (prompt, chosen and rejected vectors)."""
    return 3 * dims * _DTYPE.itemsize
