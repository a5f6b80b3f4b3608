"""The Ray executor: Ray Data ``map_batches`` over shards, one shard a batch, on a pool of actors
that each hold the task's model. A worker writes its shard's part itself (on a cluster, ``root``
must be on storage every node sees); the driver records it in the manifest as results stream
back. Actors are restarted and their shard retried when a worker dies, so a killed worker's
shard is redone, and since parts are keyed by shard id it is never counted twice.
"""

from __future__ import annotations

import logging
import os
import pickle
import warnings

from pseudorel.errors import UsageError
from pseudorel.scale.executor import Executor
from pseudorel.scale.shards import write_part

logger = logging.getLogger("pseudorel")


class _ShardWorker:
    """A Ray Data actor: sets the task up once, then computes one shard per batch."""

    def __init__(self, task_bytes: bytes, root: str):
        self.task = pickle.loads(task_bytes)
        self.task.setup()
        self.root = root

    def __call__(self, batch: dict) -> dict:
        shards, rows = [], []
        for shard, payload in zip(batch["shard"], batch["payload"], strict=True):
            rows.append(write_part(self.root, int(shard), self.task.run(pickle.loads(payload))))
            shards.append(int(shard))
        return {"shard": shards, "rows": rows, "pid": [os.getpid()] * len(shards)}


class RayExecutor(Executor):
    name = "ray"

    def __init__(self, address: str | None = None, workers: int | None = None, object_store_mb: int = 512):
        try:
            import ray
        except ImportError:
            raise UsageError("--executor ray needs Ray: pip install 'pseudorel[ray]'") from None
        self._started = False
        if not ray.is_initialized():
            options = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
            if address is None:  # a local instance on this machine only
                options |= {"num_cpus": workers or os.cpu_count(), "object_store_memory": object_store_mb << 20}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ray.init(address=address, **options)
            self._started = True
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.workers = max(1, min(workers or cpus, cpus))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Ray Data's own deprecation notices
            import ray.data

            context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # the driver shows one bar over shards
        logging.getLogger("ray.data").setLevel(logging.WARNING)

    def _run(self, task, store, todo):
        import ray.data

        items = [{"shard": shard, "payload": pickle.dumps(list(payload))} for shard, payload in todo]
        dataset = ray.data.from_items(items, override_num_blocks=len(items))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mapped = dataset.map_batches(
                _ShardWorker,
                fn_constructor_args=(pickle.dumps(task), str(store.root)),
                batch_size=1,
                compute=ray.data.ActorPoolStrategy(size=min(self.workers, len(items))),
                num_cpus=1,
                max_restarts=-1,  # a dead worker is replaced
                max_task_retries=-1,  # and its shard retried
            )
            for row in mapped.iter_rows():
                yield int(row["shard"]), int(row["rows"])

    def close(self) -> None:
        if self._started:
            import ray

            ray.shutdown()
            self._started = False
