"""The cross-encoder teacher: any sentence-transformers CrossEncoder folder reads each pair."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pseudorel.errors import InputError
from pseudorel.retrieval.batch import autocast, resolve_precision
from pseudorel.teachers.registry import CROSS_ENCODER

SHARD_PAIRS = 4096  # pairs per shard when an executor spreads the scoring


class CrossEncoderTeacher:
    """A :class:`~pseudorel.teachers.registry.PairTeacher`: a cross-encoder's logit for each pair."""

    info = CROSS_ENCODER

    def __init__(self, model: str, max_length: int = 256, batch_size: int = 32, precision: str = "auto"):
        from sentence_transformers import CrossEncoder

        folder = Path(model)
        if folder.exists() and not (folder / "config.json").is_file():
            raise InputError(folder, "not a cross-encoder folder (no config.json)")
        try:
            self.model = CrossEncoder(model, device="cpu", max_length=max_length)
        except OSError as e:  # neither a local folder nor reachable on the hub
            raise InputError(model, f"could not load a cross-encoder ({str(e).splitlines()[0]})") from None
        self.name, self.max_length, self.batch_size = model, max_length, batch_size
        self.precision = resolve_precision(precision)

    def score(self, queries: list[str], passages: list[str], progress: bool = True, executor=None) -> np.ndarray:
        """Raw scores (logits for a 1-label model); calibrate them before use as probabilities.
        ``executor`` (``pseudorel.scale``) spreads shards of pairs over workers that load the model."""
        if not queries:
            return np.zeros(0, dtype=np.float32)
        pairs = list(zip(queries, passages, strict=True))
        order = np.argsort([-len(q) - len(p) for q, p in pairs], kind="stable")  # similar lengths per batch
        ordered = [pairs[i] for i in order]
        if executor is None:
            scores = self.predict(ordered, progress)
        else:
            shards = [ordered[i : i + SHARD_PAIRS] for i in range(0, len(ordered), SHARD_PAIRS)]
            task = CrossEncoderTask(self.name, self.max_length, self.batch_size, self.precision, teacher=self)
            # parts go to a temporary folder (the label stage caches the whole table): no key to fingerprint
            parts = executor.map(
                task, shards, None, "cross-encoder", progress=progress, desc="cross-encoder", unit="pair"
            )
            scores = np.concatenate([part["score"] for part in parts])
        out = np.empty(len(pairs), dtype=np.float32)
        out[order] = scores
        return out

    def predict(self, pairs: list[tuple[str, str]], progress: bool = False) -> np.ndarray:
        """Raw scores of ``pairs`` in their order."""
        import torch

        with autocast(self.precision):
            scores = self.model.predict(
                pairs,
                batch_size=self.batch_size,
                show_progress_bar=progress,
                activation_fn=torch.nn.Identity(),  # None would mean the model's default (a sigmoid)
                convert_to_numpy=True,
            )
        return np.asarray(scores, dtype=np.float32).reshape(len(pairs), -1)[:, 0]


@dataclass
class CrossEncoderTask:
    """Score one shard of (query, passage) pairs (a ``ShardTask``); a worker loads the model once."""

    model: str
    max_length: int
    batch_size: int
    precision: str
    teacher: CrossEncoderTeacher | None = field(default=None, repr=False)

    def __getstate__(self) -> dict:
        return {**self.__dict__, "teacher": None}

    def setup(self) -> None:
        if self.teacher is None:
            self.teacher = CrossEncoderTeacher(self.model, self.max_length, self.batch_size, self.precision)

    def run(self, pairs) -> dict[str, np.ndarray]:
        return {"score": self.teacher.predict([tuple(p) for p in pairs])}
