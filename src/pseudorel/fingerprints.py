"""Fingerprints of what a cached stage was made from, so that it is reused only for the same
inputs and settings (never for stale or foreign work)."""

from __future__ import annotations

import json
from dataclasses import asdict, is_dataclass
from pathlib import Path

import pandas as pd

from pseudorel._io import atomic_write, text_digest
from pseudorel.data.types import Document
from pseudorel.queries.types import Query
from pseudorel.retrieval.models import model_fingerprint, reading_length, resolve_model

#: settings that change how long a run may take, not what it makes: left out of fingerprints so
#: that an interrupted run under a time budget still resumes
VOLATILE = frozenset({"time_limit_s", "time_budget_s"})


def _plain(value):
    if is_dataclass(value) and not isinstance(value, type):
        value = asdict(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items()) if k not in VOLATILE}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def fingerprint(*parts) -> str:
    """A short digest of ``parts`` (strings, numbers, dataclasses, dicts, lists)."""
    return text_digest(json.dumps(_plain(list(parts)), sort_keys=True, default=str))[:20]


def frame_digest(frame: pd.DataFrame) -> str:
    """A digest of a table's columns and values."""
    text = {c: str for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])}
    values = pd.util.hash_pandas_object(frame.astype(text), index=False)
    return text_digest(",".join(map(str, frame.columns)), values.to_numpy().tobytes().hex())[:20]


def corpus_digest(corpus: dict[str, Document]) -> str:
    return text_digest(*(f"{i}\x01{d.title}\x01{d.text}" for i, d in corpus.items()))


def queries_digest(queries: list[Query]) -> str:
    return text_digest(*(f"{q.id}\x01{q.text}\x01{q.source}\x01{q.doc_id}" for q in queries))


def model_id(name: str) -> str:
    """The fingerprint of a model's files (a folder, an alias of a packaged model, or a name)."""

    return model_fingerprint(resolve_model(name))


def model_identity(name: str) -> str:
    """What a model computes: its files' fingerprint and, where pseudorel's code sets it, how
    many tokens it reads (``@own``: its files say)."""

    path = resolve_model(name)
    return f"{model_fingerprint(path)}@{reading_length(path) or 'own'}"


class StageRecord:
    """``stages.json`` in an output folder: the fingerprint each of its outputs was made from."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.stages: dict[str, str] = self._read()

    def _read(self) -> dict[str, str]:
        """The record; a damaged one (a hand edit, a disk fault) is empty: every stage is made again."""
        if not self.path.is_file():
            return {}
        try:
            stages = json.loads(self.path.read_text(encoding="utf-8"))
        except (ValueError, OSError):
            stages = None
        if not isinstance(stages, dict) or not all(isinstance(v, str) for v in stages.values()):
            import logging

            logging.getLogger("pseudorel").warning("%s is damaged: every stage is made again", self.path)
            return {}
        return stages

    def matches(self, stage: str, key: str, output: Path) -> bool:
        """``output`` exists and was made from exactly ``key``."""
        return output.exists() and self.stages.get(stage) == key

    def key(self, stage: str) -> str | None:
        """The fingerprint ``stage``'s output was last made from, if any."""
        return self.stages.get(stage)

    def record(self, stage: str, key: str) -> None:
        self.stages[stage] = key
        with atomic_write(self.path) as f:
            json.dump(self.stages, f, indent=2, sort_keys=True)
            f.write("\n")
