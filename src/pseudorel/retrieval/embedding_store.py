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

import contextlib
import math
import shutil
import threading
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
    """Text digest -> embedding, for one model setting, in ``root``.

    Parts stay few: once ``fanout`` parts of one size tier (rows, in powers of ``fanout``) exist,
    they are merged into one of the next tier, so a store that gains a small part per search (a
    late stage serving queries) keeps O(log n) files instead of one per search. A store object
    remembers the parts it has read and reads only new ones on :meth:`refresh`; hold one (see
    :meth:`shared`) where the same store is asked many times.
    """

    fanout = 4

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self._rows: dict[str, np.ndarray] = {}
        self._parts: dict[str, list[str]] = {}  # part file name -> its digests, for the parts read or written here
        self._lock = threading.Lock()

    @classmethod
    def shared(cls, root: str | Path) -> EmbeddingStore:
        """One store object per folder in this process (its rows stay in memory)."""
        key = Path(root).resolve()
        with _SHARED_LOCK:
            return _SHARED.setdefault(key, cls(key))

    def refresh(self) -> int:
        """Read the parts written since the last call, by any process; returns how many."""
        read = 0
        with self._lock:
            for part in sorted(self.root.glob("part-*.npz")):
                if part.name in self._parts:
                    continue
                try:
                    with np.load(part) as data:
                        digests, emb = data["digests"].tolist(), data["embeddings"]
                except FileNotFoundError:  # merged away by another process meanwhile: its rows are in the merged part
                    continue
                self._rows.update(zip(digests, emb, strict=True))
                self._parts[part.name] = digests
                read += 1
        return read

    def load(self) -> dict[str, np.ndarray]:
        """Every embedding in the store."""
        self.refresh()
        return self._rows

    def lookup(self, digests: list[str]) -> dict[str, np.ndarray]:
        """The embeddings of those ``digests`` the store holds (after reading any new parts)."""
        self.refresh()
        return {d: self._rows[d] for d in digests if d in self._rows}

    def add(self, digests: list[str], embeddings: np.ndarray) -> None:
        if not digests:
            return
        self.root.mkdir(parents=True, exist_ok=True)
        name = self._write(digests, embeddings)
        with self._lock:
            self._rows.update(zip(digests, embeddings, strict=True))
            self._parts[name] = list(digests)
        self.compact()

    def compact(self) -> int:
        """Merge ``fanout`` parts of a size tier into one, until no tier has that many; returns the
        number of merges. The merged part is written (from the rows in memory) before its sources
        are removed, so a reader at any moment finds every row (at worst twice, where two processes
        merge the same parts at once)."""
        merges = 0
        while group := self._full_tier():
            with self._lock:
                digests = [d for name in group for d in self._parts[name]]
                rows = np.stack([self._rows[d] for d in digests])
            merged = self._write(digests, rows)
            with self._lock:
                for name in group:
                    del self._parts[name]
                    with contextlib.suppress(FileNotFoundError):  # another process merged it too
                        (self.root / name).unlink()
                self._parts[merged] = digests
            merges += 1
        return merges

    def _full_tier(self) -> list[str]:
        tiers: dict[int, list[str]] = {}
        with self._lock:
            for name, digests in sorted(self._parts.items()):
                tier = int(math.log(max(len(digests), 1), self.fanout))
                tiers.setdefault(tier, []).append(name)
        full = [names for names in tiers.values() if len(names) >= self.fanout]
        return full[0][: self.fanout] if full else []

    def _write(self, digests: list[str], embeddings: np.ndarray) -> str:
        name = f"part-{uuid.uuid4().hex}.npz"
        with atomic_write(self.root / name, "wb", encoding=None) as f:
            np.savez(f, digests=np.array(digests), embeddings=embeddings.astype(np.float32, copy=False))
        return name


_SHARED: dict[Path, EmbeddingStore] = {}
_SHARED_LOCK = threading.Lock()


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
    keep: bool = False,
) -> np.ndarray:
    """Embeddings of ``texts`` in input order (float32), each text encoded at most once per model
    setting across runs. ``stats`` (if given) receives ``texts``, ``encoded`` (how many were
    computed now) and ``seconds`` (their encoding time). ``keep``: hold the store in memory for
    later calls in this process (a search-time caller asking for a few texts at a time), so each
    call reads only parts written since, not the whole store."""

    if not texts:
        return np.zeros((0, model.get_sentence_embedding_dimension()), dtype=np.float32)
    backend = resolve_backend(precision, model, texts)
    precision = cache_precision(backend)
    route = (task or "") if is_asymmetric(model) else ""
    setting = text_digest(model_id, str(model.max_seq_length), precision, prompt or "", route)[:24]
    root = (cache_dir or embedding_cache_dir()) / "by_text" / setting
    store = EmbeddingStore.shared(root) if keep else EmbeddingStore(root)
    digests = [_digest(t) for t in texts]
    known = store.lookup(digests)
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
    return np.stack([known[d] for d in digests]).astype(np.float32, copy=False)
