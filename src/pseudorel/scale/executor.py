"""One small interface for the stages that map over data, with two implementations: local
(in this process, the default, no Ray import) and Ray (``ray_executor``).

A stage gives a ``ShardTask`` (picklable; ``setup`` loads its model once per worker, ``run``
maps one shard of items to columns) and its items cut into shards. Each finished shard is a
Parquet part in a ``ShardStore`` whose manifest lets a restarted job skip finished shards.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from pseudorel._io import bars
from pseudorel.scale.shards import Columns, ShardStore, write_part

logger = logging.getLogger("pseudorel")

Todo = list[tuple[int, Sequence[Any]]]


class ShardTask(Protocol):
    def setup(self) -> None:
        """Load what the task needs (a model), once per worker."""

    def run(self, items: Sequence[Any]) -> Columns:
        """The output columns for one shard of items."""


class Executor:
    """Maps a task over shards; subclasses say how the unfinished shards run (``_run``)."""

    name = "base"
    workers = 1
    tick = None  # during map: advances the progress bar by n items

    def map(
        self,
        task: ShardTask,
        shards: Sequence[Sequence[Any]],
        root: str | Path | None,
        key: str,
        progress: bool = True,
        desc: str = "shards",
        unit: str = "item",
    ) -> list[Columns]:
        """Each shard's columns, in shard order. With ``root``, finished shards found in its manifest
        (same ``key``) are read back, not recomputed; without it, parts go to a temporary folder."""
        if root is None:
            with tempfile.TemporaryDirectory(prefix="pseudorel-shards-") as tmp:
                return self.map(task, shards, tmp, key, progress, desc, unit)
        store = ShardStore(root, key, len(shards))
        todo = [i for i in range(len(shards)) if i not in store.done]
        if todo:
            from tqdm.auto import tqdm

            # the bar counts the items (documents, queries, pairs), not shards: a shard can take minutes
            total, skipped = sum(map(len, shards)), sum(len(shards[i]) for i in store.done)

            with tqdm(total=total, initial=skipped, desc=desc, unit=unit, disable=not bars(progress)) as bar:
                within = [0]  # items a task reported inside the shard it is running (local executor)

                def tick(n: int) -> None:
                    within[0] += n
                    bar.update(n)

                self.tick = tick
                for shard, rows in self._run(task, store, [(i, shards[i]) for i in todo]):
                    store.record(shard, rows)
                    bar.update(max(0, len(shards[shard]) - within[0]))
                    within[0] = 0
        if not store.complete():
            missing = sorted(set(range(len(shards))) - set(store.done))
            raise RuntimeError(f"{self.name} executor finished without shards {missing[:10]}")
        return [store.read_part(i) for i in range(len(shards))]

    def _run(self, task: ShardTask, store: ShardStore, todo: Todo) -> Iterator[tuple[int, int]]:
        """Compute the shards ``todo`` (index, items), yielding (index, rows) as each part is written."""
        raise NotImplementedError

    def close(self) -> None:
        """Release what the executor started."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class LocalExecutor(Executor):
    """Today's behaviour: every shard in this process, one after the other."""

    name = "local"

    def _run(self, task, store, todo):
        task.setup()
        if hasattr(task, "on_items"):  # the bar moves per batch, not per shard
            task.on_items = self.tick
        try:
            for shard, items in todo:
                yield shard, write_part(store.root, shard, task.run(items))
        finally:
            if hasattr(task, "on_items"):
                task.on_items = None
