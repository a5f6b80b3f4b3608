"""faiss indexes for inner-product search: exact (flat), IVF and HNSW.

Exact search costs O(documents) per query; past a few million vectors an approximate index
pays: IVF scans the ``nprobe`` nearest of ``nlist`` k-means cells, HNSW walks a graph. Both
trade recall for speed; ``bench/scale.py`` measures recall@100 against exact search.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pseudorel.errors import UsageError

INDEX_KINDS = ("exact", "ivf", "hnsw")


@dataclass(frozen=True)
class IndexSettings:
    kind: str = "exact"
    nlist: int | None = None  # IVF cells; default ~4 sqrt(N), at least 39 training points per cell
    nprobe: int | None = None  # IVF cells scanned per query; default nlist / 32 (at least 8)
    hnsw_m: int = 32  # HNSW neighbours per node
    ef_search: int = 128  # HNSW candidate list at query time
    train_size: int = 262_144  # IVF k-means sample
    seed: int = 0

    def __post_init__(self):
        if self.kind not in INDEX_KINDS:
            raise UsageError(f"unknown index '{self.kind}' (use {', '.join(INDEX_KINDS)})")


def default_nlist(n: int) -> int:
    return max(1, min(int(4 * math.sqrt(n)), n // 39))


def build_index(vectors: np.ndarray, settings: IndexSettings | None = None):
    """A faiss index over ``vectors`` (float32, rows) for inner-product search."""
    import faiss

    settings = settings or IndexSettings()
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = vectors.shape
    if settings.kind == "exact" or n < 2 * 39:  # too few vectors to train cells: exact is as fast
        index = faiss.IndexFlatIP(dim)
    elif settings.kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, settings.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efSearch = settings.ef_search
    else:
        nlist = settings.nlist or default_nlist(n)
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(settings.seed)
        sample = vectors if n <= settings.train_size else vectors[rng.choice(n, settings.train_size, replace=False)]
        index.cp.seed = settings.seed
        index.train(sample)
        index.nprobe = min(nlist, settings.nprobe or max(8, nlist // 32))
    index.add(vectors)
    return index
