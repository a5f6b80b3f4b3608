"""Shard tasks for the executor tests; importable by Ray workers (the tests put the repository
on their PYTHONPATH)."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import numpy as np


class Doubling:
    """Doubles each item; records each shard it computes as a file ``calls/<first item>-<uuid>``,
    so tests can count attempts across processes. ``fail_at``: raise on the shard starting there;
    ``stall_at``: the first attempt at that shard writes its pid to ``stalled.pid`` and sleeps."""

    def __init__(self, folder: str, fail_at: int | None = None, stall_at: int | None = None):
        self.folder, self.fail_at, self.stall_at = folder, fail_at, stall_at

    def setup(self) -> None:
        (Path(self.folder) / "calls").mkdir(parents=True, exist_ok=True)

    def run(self, items) -> dict[str, np.ndarray]:
        first = int(items[0])
        if first == self.fail_at:
            raise RuntimeError(f"planned failure at shard starting {first}")
        pid_file = Path(self.folder) / "stalled.pid"
        if first == self.stall_at and not pid_file.exists():
            pid_file.write_text(str(os.getpid()))
            time.sleep(120)  # killed by the test before this ends
        (Path(self.folder) / "calls" / f"{first}-{uuid.uuid4().hex}").touch()
        values = np.asarray(items, dtype=np.int64)
        return {"item": values, "double": 2 * values, "pair": np.stack([values, values + 1], axis=1)}

    def calls(self) -> list[int]:
        return sorted(int(p.name.split("-")[0]) for p in (Path(self.folder) / "calls").iterdir())
