"""Scale-out: map a stage over shards with a local or a Ray executor, each shard's output a
Parquet part recorded in a manifest (a restarted job skips finished shards)."""

from pseudorel.errors import UsageError
from pseudorel.scale.executor import Executor, LocalExecutor, ShardTask
from pseudorel.scale.ray_executor import RayExecutor
from pseudorel.scale.shards import ShardStore

__all__ = ["EXECUTORS", "Executor", "LocalExecutor", "ShardStore", "ShardTask", "make_executor"]

EXECUTORS = ("local", "ray")


def make_executor(name: str = "local", address: str | None = None, workers: int | None = None) -> Executor:
    """``local`` or ``ray`` (``address``: an existing cluster; None starts a local one with ``workers`` CPUs)."""
    if name == "local":
        return LocalExecutor()
    if name == "ray":
        return RayExecutor(address=address, workers=workers)
    raise UsageError(f"unknown executor '{name}' (use {' or '.join(EXECUTORS)})")
