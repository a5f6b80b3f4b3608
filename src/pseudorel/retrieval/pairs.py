"""A dense model that reads only the documents it is asked about: cosines of given (query,
document) pairs, each document embedded at most once (cached by content, across runs).

Sampled teaching scores its candidate pairs with it, and a search system's late stage its
first stage's top documents, so an expensive embedder costs queries x depth, not the corpus.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pseudorel.data.types import Document
from pseudorel.retrieval.embedding_store import encode_by_content
from pseudorel.retrieval.models import load_bi_encoder, model_fingerprint, resolve_model


def _unit(emb: np.ndarray) -> np.ndarray:
    return emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)


class PairScorer:
    """Cosine similarity of (query text, document) pairs under the dense model ``name``."""

    def __init__(self, name: str, progress: bool = False, executor=None):
        self.name = name
        self.model = load_bi_encoder(name)
        self.model_id = model_fingerprint(resolve_model(name))
        self.progress, self.executor = progress, executor

    def _encode(self, texts: list[str], task: str, stats: dict | None = None) -> np.ndarray:
        emb = encode_by_content(
            self.model,
            texts,
            self.model_id,
            task=task,
            desc=f"{self.name}: {task}s",
            progress=self.progress,
            executor=self.executor,
            model_name=self.name,
            stats=stats,
            keep=True,  # asked again at every search: read the store once, then only what is new
        )
        return _unit(emb)

    def score(
        self,
        query_texts: Sequence[str],
        doc_ids: Sequence[str],
        corpus: dict[str, Document],
        stats: dict | None = None,
    ) -> np.ndarray:
        """One cosine per pair (``query_texts[i]``, ``corpus[doc_ids[i]]``); ``stats`` receives how
        many documents were read and how many of them had to be encoded now."""
        docs = list(dict.fromkeys(doc_ids))
        queries = list(dict.fromkeys(query_texts))
        doc_emb = self._encode([corpus[d].full_text for d in docs], "document", stats)
        query_emb = self._encode(queries, "query")
        d_row = {d: i for i, d in enumerate(docs)}
        q_row = {q: i for i, q in enumerate(queries)}
        d_idx = np.fromiter((d_row[d] for d in doc_ids), dtype=np.int64, count=len(doc_ids))
        q_idx = np.fromiter((q_row[q] for q in query_texts), dtype=np.int64, count=len(query_texts))
        return np.einsum("ij,ij->i", query_emb[q_idx], doc_emb[d_idx])
