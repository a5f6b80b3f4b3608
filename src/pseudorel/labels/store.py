"""The label store: one Parquet table of labelled (query, document) pairs.

Columns: ``query_id``, ``query_text``, ``query_source``, ``doc_id``, ``cand_source``,
``is_source_doc``, ``fused_rank`` and ``rank_<retriever>``; per teacher ``score_<name>``
(raw) and ``prob_<name>`` (calibrated, NaN where the teacher did not judge);
``llm_error`` where a judgment failed; and ``label``, the combined probability.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pseudorel._io import atomic_write
from pseudorel.errors import InputError

REQUIRED = ("query_id", "query_text", "doc_id", "label")


def save_labels(frame: pd.DataFrame, path: str | Path) -> None:
    with atomic_write(path, "wb") as f:
        frame.to_parquet(f, index=False)


def load_labels(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "label file not found")
    try:
        frame = pd.read_parquet(path)
    except Exception as e:  # pyarrow raises several types for a bad file
        raise InputError(path, f"not a readable Parquet file ({type(e).__name__})") from None
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise InputError(path, f"not a label table: missing column(s) {', '.join(missing)}")
    return frame


class StageCache:
    """Parquet results of pipeline stages under ``workdir``, keyed by a digest of their inputs."""

    def __init__(self, workdir: str | Path):
        self.workdir = Path(workdir)

    def path(self, stage: str, key: str) -> Path:
        return self.workdir / f"{stage}-{key[:16]}.parquet"

    def get_or_compute(self, stage: str, key: str, compute) -> pd.DataFrame:
        path = self.path(stage, key)
        if path.is_file():
            return pd.read_parquet(path)
        frame = compute()
        save_labels(frame, path)
        return frame

    def save_json(self, stage: str, key: str, data: dict) -> None:
        """A stage's side record (what it read, how long it took), keyed like its table."""
        import json

        with atomic_write(self.workdir / f"{stage}-{key[:16]}.json") as f:
            json.dump(data, f, indent=2)

    def load_json(self, stage: str, key: str) -> dict | None:
        import json

        path = self.workdir / f"{stage}-{key[:16]}.json"
        return json.loads(path.read_text()) if path.is_file() else None
