"""The cross-encoder teacher: any sentence-transformers CrossEncoder folder reads each pair."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pseudorel.errors import InputError
from pseudorel.retrieval.encoding import _autocast


class CrossEncoderTeacher:
    def __init__(self, model: str, max_length: int = 256, batch_size: int = 32, precision: str = "auto"):
        from sentence_transformers import CrossEncoder

        from pseudorel.retrieval.encoding import resolve_precision

        folder = Path(model)
        if folder.exists() and not (folder / "config.json").is_file():
            raise InputError(folder, "not a cross-encoder folder (no config.json)")
        try:
            self.model = CrossEncoder(model, device="cpu", max_length=max_length)
        except OSError as e:  # neither a local folder nor reachable on the hub
            raise InputError(model, f"could not load a cross-encoder ({str(e).splitlines()[0]})") from None
        self.batch_size = batch_size
        self.precision = resolve_precision(precision)

    def score(self, queries: list[str], passages: list[str], progress: bool = True) -> np.ndarray:
        """Raw scores (logits for a 1-label model); calibrate them before use as probabilities."""
        if not queries:
            return np.zeros(0, dtype=np.float32)
        import torch

        pairs = list(zip(queries, passages, strict=True))
        order = np.argsort([-len(q) - len(p) for q, p in pairs], kind="stable")  # similar lengths per batch
        with _autocast(self.precision):
            scores = self.model.predict(
                [pairs[i] for i in order],
                batch_size=self.batch_size,
                show_progress_bar=progress,
                activation_fn=torch.nn.Identity(),  # None would mean the model's default (a sigmoid)
                convert_to_numpy=True,
            )
        out = np.empty(len(pairs), dtype=np.float32)
        out[order] = np.asarray(scores, dtype=np.float32).reshape(len(pairs), -1)[:, 0]
        return out
