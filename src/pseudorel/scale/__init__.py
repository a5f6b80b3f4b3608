"""Scale-out: map a stage over shards with a local or a Ray executor, each shard's output a
Parquet part recorded in a manifest (a restarted job skips finished shards)."""

from pseudorel.scale.executor import EXECUTORS, Executor, LocalExecutor, ShardTask, make_executor
from pseudorel.scale.shards import ShardStore

__all__ = ["EXECUTORS", "Executor", "LocalExecutor", "ShardStore", "ShardTask", "make_executor"]
