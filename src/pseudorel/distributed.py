"""Which process of a distributed training run this is (``torchrun`` / ``accelerate launch`` set
RANK and WORLD_SIZE; Ray Train does too). Outside such a run: rank 0 of 1."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable

logger = logging.getLogger("pseudorel")


def rank() -> int:
    return int(os.environ.get("RANK", "0"))


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def is_main_process() -> bool:
    """Only rank 0 writes models, cards and markers; the other ranks compute and leave."""
    return rank() == 0


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 600.0) -> None:
    """A non-main rank waits for rank 0 to have done ``what`` (e.g. claimed the output folder)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"rank {rank()}: rank 0 did not {what} within {timeout_s:.0f} s")
        time.sleep(0.2)


def distributed_steps(steps: int) -> int:
    """The trainer's ``max_steps``: -1 (from the epochs) in one process; in several, the planned
    ``steps`` (each process reading its own batch per step), since the trainer cannot count a
    distributed batch sampler's batches."""
    return steps if world_size() > 1 else -1


def barrier() -> None:
    """Wait for every rank, where a process group is up (the trainer starts one); else nothing."""
    import sys

    dist = sys.modules.get("torch.distributed")
    if dist is not None and dist.is_available() and dist.is_initialized():
        dist.barrier()
