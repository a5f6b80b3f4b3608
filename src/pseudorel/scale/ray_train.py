"""Training under Ray Train: ``pseudorel train --executor ray --workers N`` runs the same
command on N Ray Train workers (a TorchTrainer; DDP over the process group Ray sets up, gloo
on CPU). Each worker runs the whole command; the trainers see RANK / WORLD_SIZE, split the
batches, gather in-batch documents across workers, and only rank 0 writes (paths must be on
storage every worker sees)."""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Callable
from typing import Any

from pseudorel.errors import UsageError


def _worker_loop(config: dict) -> None:
    config["function"](**config["arguments"])


def run_on_ray(
    function: Callable[..., Any], arguments: dict[str, Any], workers: int = 2, address: str | None = None
) -> None:
    """Call ``function(**arguments)`` on ``workers`` Ray Train workers (1 CPU each)."""
    try:
        import ray
        from ray.train import RunConfig, ScalingConfig
        from ray.train.torch import TorchTrainer
    except ImportError:
        raise UsageError("--executor ray needs Ray: pip install 'pseudorel[ray]'") from None
    started = False
    if not ray.is_initialized():
        options = {"include_dashboard": False, "log_to_driver": True, "configure_logging": False}
        if address is None:
            options["num_cpus"] = workers
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ray.init(address=address, **options)
        started = True
    try:
        with tempfile.TemporaryDirectory(prefix="pseudorel-ray-train-") as storage:
            trainer = TorchTrainer(
                _worker_loop,
                train_loop_config={"function": function, "arguments": arguments},
                scaling_config=ScalingConfig(num_workers=workers, use_gpu=False, resources_per_worker={"CPU": 1}),
                run_config=RunConfig(storage_path=storage, name="pseudorel-train"),
            )
            trainer.fit()
    finally:
        if started:
            ray.shutdown()
