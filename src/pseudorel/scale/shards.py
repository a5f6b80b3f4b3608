"""Shard outputs on disk: one Parquet part per shard and a manifest of the finished ones.

The manifest is written (atomically) only by the driver, after a shard's part is complete, so a
part exists in the manifest at most once: a shard redone after a crash replaces its part, and
a job restarted with the same key skips every shard the manifest lists. A manifest of another
key (other inputs) is foreign work: its parts are removed and the store starts empty.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np

from pseudorel._io import atomic_write

logger = logging.getLogger("pseudorel")

Columns = dict[str, np.ndarray]


def to_table(columns: Columns):
    """An Arrow table; a 2-D array becomes a fixed-size list column (one row per vector)."""
    import pyarrow as pa

    arrays = {}
    for name, values in columns.items():
        values = np.asarray(values)
        if values.ndim == 2:
            flat = pa.array(np.ascontiguousarray(values).reshape(-1))
            arrays[name] = pa.FixedSizeListArray.from_arrays(flat, values.shape[1])
        else:
            arrays[name] = pa.array(values)
    return pa.table(arrays)


def from_table(table) -> Columns:
    import pyarrow as pa

    out = {}
    for name in table.column_names:
        column = table.column(name).combine_chunks()
        if pa.types.is_fixed_size_list(column.type):
            width = column.type.list_size
            out[name] = column.flatten().to_numpy(zero_copy_only=False).reshape(-1, width)
        else:
            out[name] = column.to_numpy(zero_copy_only=False)
    return out


def part_path(root: str | Path, shard: int) -> Path:
    return Path(root) / f"part-{shard:05d}.parquet"


def write_part(root: str | Path, shard: int, columns: Columns) -> int:
    """Write shard ``shard``'s output (atomically: a redone shard replaces its part); its rows.
    Workers call this; only the driver records the shard in the manifest."""
    import pyarrow.parquet as pq

    table = to_table(columns)
    with atomic_write(part_path(root, shard), "wb") as f:
        pq.write_table(table, f)
    return table.num_rows


class ShardStore:
    """Parts and manifest of one stage's run, in ``root``, for the inputs fingerprinted ``key``."""

    def __init__(self, root: str | Path, key: str, shards: int):
        self.root, self.key, self.shards = Path(root), key, shards
        self.manifest_path = self.root / "manifest.json"
        self.done: dict[int, dict] = self._read()

    def _read(self) -> dict[int, dict]:
        try:
            manifest = json.loads(self.manifest_path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            manifest = None
        if not manifest:
            return {}  # a part without a manifest entry is redone (and replaced), never trusted
        if manifest.get("key") != self.key or manifest.get("shards") != self.shards:
            logger.warning("%s holds shards of other inputs: computing them anew", self.root)
            shutil.rmtree(self.root, ignore_errors=True)
            return {}
        done = {int(i): entry for i, entry in manifest["done"].items()}
        return {i: e for i, e in done.items() if (self.root / e["file"]).is_file()}

    def part_path(self, shard: int) -> Path:
        return part_path(self.root, shard)

    def record(self, shard: int, rows: int) -> None:
        """Mark ``shard`` finished (driver only)."""
        self.done[shard] = {"rows": rows, "file": self.part_path(shard).name}
        manifest = {"key": self.key, "shards": self.shards, "done": {str(i): e for i, e in sorted(self.done.items())}}
        with atomic_write(self.manifest_path) as f:
            json.dump(manifest, f, indent=1)

    def read_part(self, shard: int) -> Columns:
        import pyarrow.parquet as pq

        return from_table(pq.read_table(self.part_path(shard)))

    def complete(self) -> bool:
        return len(self.done) == self.shards
