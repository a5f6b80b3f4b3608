"""Embeddings cached per text, by content: a corpus that shares documents with one encoded before
(a merged corpus, a corpus that grew, the candidate documents an expensive teacher read for
another run) encodes only the texts it has not seen.

One folder per model setting (model files, reading length, precision, prompt, route) holds
``.npz`` parts, each a batch of text digests and their embeddings, written atomically under
a unique name as each encoding run finishes; concurrent writers only ever add parts.
Texts still missing are encoded through :func:`~pseudorel.retrieval.encoding.encode_texts`
(sharded, resumable, through the executors) before their part is written.
"""

from __future__ import annotations

import shutil
import time
import uuid
from pathlib import Path

import numpy as np

from pseudorel._io import atomic_write, text_digest
from pseudorel.retrieval.backends import cache_precision
from pseudorel.retrieval.encoding import embedding_cache_dir, encode_texts, is_asymmetric, resolve_backend


def _digest(text: str) -> str:
    return text_digest(text)[:32]


class EmbeddingStore:
    """Text digest -> embedding, for one model setting, in ``root``."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def load(self) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for part in sorted(self.root.glob("part-*.npz")):
            with np.load(part) as data:
                for digest, row in zip(data["digests"].tolist(), data["embeddings"], strict=True):
                    found[digest] = row
        return found

    def add(self, digests: list[str], embeddings: np.ndarray) -> None:
        if not digests:
            return
        self.root.mkdir(parents=True, exist_ok=True)
        with atomic_write(self.root / f"part-{uuid.uuid4().hex}.npz", "wb", encoding=None) as f:
            np.savez(f, digests=np.array(digests), embeddings=embeddings.astype(np.float32, copy=False))


def encode_by_content(
    model,
    texts: list[str],
    model_id: str,
    task: str | None = None,
    precision: str = "auto",
    prompt: str | None = None,
    batch_size: int = 32,
    cache_dir: Path | None = None,
    progress: bool = True,
    desc: str = "encode",
    executor=None,
    model_name: str | None = None,
    stats: dict | None = None,
) -> np.ndarray:
    """Embeddings of ``texts`` in input order (float32), each text encoded at most once per model
    setting across runs. ``stats`` (if given) receives ``texts``, ``encoded`` (how many were
    computed now) and ``seconds`` (their encoding time)."""

    if not texts:
        return np.zeros((0, model.get_sentence_embedding_dimension()), dtype=np.float32)
    backend = resolve_backend(precision, model, texts)
    precision = cache_precision(backend)
    route = (task or "") if is_asymmetric(model) else ""
    setting = text_digest(model_id, str(model.max_seq_length), precision, prompt or "", route)[:24]
    store = EmbeddingStore((cache_dir or embedding_cache_dir()) / "by_text" / setting)
    digests = [_digest(t) for t in texts]
    known = store.load()
    missing: dict[str, str] = {}
    for digest, text in zip(digests, texts, strict=True):
        if digest not in known:
            missing.setdefault(digest, text)
    start = time.perf_counter()
    if missing:
        # this batch's own folder: a concurrent run encoding other texts keeps its shards
        pending = store.root / "pending" / text_digest(*missing)[:16]
        new = encode_texts(
            model,
            list(missing.values()),
            model_id,
            batch_size=batch_size,
            precision=backend,
            prompt=prompt,
            task=task,
            cache_dir=pending,  # resumable shards while this batch is encoded
            progress=progress,
            desc=desc,
            executor=executor,
            model_name=model_name,
        )
        store.add(list(missing), new)
        known.update(zip(missing, new, strict=True))
        shutil.rmtree(pending, ignore_errors=True)
    if stats is not None:
        stats.update(texts=len(texts), encoded=len(missing), seconds=round(time.perf_counter() - start, 2))
    if not texts:
        return np.zeros((0, model.get_sentence_embedding_dimension()), dtype=np.float32)
    return np.stack([known[d] for d in digests]).astype(np.float32, copy=False)
