"""Data-parallel helpers for jobs started with ``accelerate launch`` (or torchrun).

Without a launcher every helper degrades to the single-process case. With one, the
process group is created through accelerate (gloo on CPU, NCCL on GPUs); the main
process owns run bookkeeping and the others follow its decisions.
"""

from __future__ import annotations

import os
from typing import Any


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def rank() -> int:
    return int(os.environ.get("RANK", "0"))


def is_main() -> bool:
    return rank() == 0


def init() -> None:
    """Join the launcher's process group (no-op in a single process)."""
    if world_size() > 1:
        from accelerate import PartialState

        PartialState()


def barrier() -> None:
    if world_size() > 1:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.barrier()


def broadcast(obj: Any) -> Any:
    """The main process's ``obj`` on every process."""
    if world_size() == 1:
        return obj
    import torch.distributed as dist

    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]
