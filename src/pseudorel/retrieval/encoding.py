"""Encode texts with a sentence-transformers model, cached on disk and resumable.

Texts are sorted by length so each batch pads to similar lengths; the sorted order is
cut into shards that an executor (local, or Ray) encodes, each saved as a Parquet part as it
finishes. An interrupted run resumes from its manifest of finished shards; a finished run is
one ``.npy`` keyed by model and content.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pseudorel._io import atomic_write, cache_root, text_digest
from pseudorel.retrieval.backends import cache_precision, with_backend
from pseudorel.retrieval.batch import canonical_backend, encode_batch, is_asymmetric
from pseudorel.retrieval.calibration import choose_backend
from pseudorel.retrieval.models import load_bi_encoder
from pseudorel.scale import LocalExecutor

UNITS = {"document": "doc", "query": "query"}
SHARD_SIZE = 512  # texts per shard: the unit of resuming and of work sent to a worker


def embedding_cache_dir() -> Path:
    return cache_root() / "embeddings"


def resolve_backend(precision: str, model, texts: list[str], work: int | None = None) -> str:
    """The concrete backend ``precision`` means for ``model``: ``auto`` (or ``$PSEUDOREL_BACKEND``)
    through the calibration (cached per machine and model), ``fp32``/``bf16`` as PyTorch's.
    ``work``: how many texts it is about to encode (default: ``texts``)."""

    return choose_backend(model, texts, precision, len(texts) if work is None else work).backend


@dataclass
class EncodeTask:
    """Encode one shard of texts (a ``ShardTask``): a worker loads ``model_name`` once, the local
    executor reuses the model already loaded (it is not pickled)."""

    model_name: str | None
    max_seq_length: int
    batch_size: int
    precision: str
    prompt: str | None
    task: str | None
    model: Any = field(default=None, repr=False)
    on_items: Any = field(default=None, repr=False)  # the local executor's progress: called per batch

    def __getstate__(self) -> dict:
        if self.model_name is None:
            raise ValueError("a model given only as an object cannot be sent to a worker: give its name")
        return {**self.__dict__, "model": None, "on_items": None}

    def setup(self) -> None:
        if self.model is None:
            self.model = load_bi_encoder(self.model_name)
            self.model.max_seq_length = self.max_seq_length
            self.model = with_backend(self.model, canonical_backend(self.precision))

    def run(self, texts) -> dict[str, np.ndarray]:
        texts = list(texts)
        parts = []
        for start in range(0, len(texts), self.batch_size):
            chunk = texts[start : start + self.batch_size]
            parts.append(encode_batch(self.model, chunk, self.batch_size, self.precision, self.prompt, self.task))
            if self.on_items is not None:
                self.on_items(len(chunk))
        return {"embedding": np.concatenate(parts)}


def encode_texts(
    model,
    texts: list[str],
    model_id: str,
    batch_size: int = 32,
    shard_size: int | None = None,
    precision: str = "auto",
    prompt: str | None = None,
    task: str | None = None,
    cache_dir: Path | None = None,
    use_cache: bool = True,
    progress: bool = True,
    desc: str = "encode",
    executor=None,
    model_name: str | None = None,
) -> np.ndarray:
    """Embeddings of ``texts`` in input order, float32, shape (len(texts), dim).

    ``model_id`` identifies the model's weights (see ``model_fingerprint``); it and the
    texts, max length, precision and prompt make the cache key. ``task`` (``query`` or
    ``document``) picks the route of an asymmetric model (a sentence-transformers ``Router``).
    ``executor`` (default: local) runs the shards; one on other processes loads ``model_name``.
    """

    if not texts:
        return np.zeros((0, model.get_sentence_embedding_dimension()), dtype=np.float32)
    backend = resolve_backend(precision, model, texts)
    precision = cache_precision(backend)
    # the task changes embeddings only where the model routes by it; other keys stay as they were
    route = (task or "") if is_asymmetric(model) else ""
    key = text_digest(model_id, str(model.max_seq_length), precision, prompt or "", route, str(len(texts)), *texts)[:24]
    root = (cache_dir or embedding_cache_dir()) / key
    final = root / "embeddings.npy"
    if use_cache and (done := _load_if_present(final)) is not None:
        return done

    order = np.argsort([-len(t) for t in texts], kind="stable")
    shard_size = shard_size or SHARD_SIZE
    shards = [[texts[i] for i in order[start : start + shard_size]] for start in range(0, len(order), shard_size)]
    runner = with_backend(model, backend)
    job = EncodeTask(model_name, model.max_seq_length, batch_size, precision, prompt, task, model=runner)
    try:
        parts = (executor or LocalExecutor()).map(
            job,
            shards,
            root / "parts" if use_cache else None,
            key,
            progress=progress,
            desc=desc,
            unit=UNITS.get(task or "", "text"),
        )
    except FileNotFoundError:
        # another process encoding the same texts finished first and removed the parts
        if use_cache and (done := _load_if_present(final)) is not None:
            return done
        raise
    sorted_emb = np.concatenate([p["embedding"] for p in parts]).astype(np.float32, copy=False)
    embeddings = np.empty_like(sorted_emb)
    embeddings[order] = sorted_emb
    if use_cache:
        with atomic_write(final, "wb") as f:
            np.save(f, embeddings)
        # another process encoding the same texts may have finished and removed them first
        shutil.rmtree(root / "parts", ignore_errors=True)
    return embeddings


def _load_if_present(path: Path) -> np.ndarray | None:
    """The array at ``path``, or None if it is not there (or vanished: a concurrent run cleaned up)."""
    try:
        return np.load(path)
    except FileNotFoundError:
        return None
