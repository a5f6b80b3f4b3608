"""Dense retrieval: a sentence-transformers bi-encoder and a faiss inner-product index (exact by default)."""

from __future__ import annotations

import random

import numpy as np

from pseudorel.data.types import Document, Run
from pseudorel.retrieval.ann import IndexSettings, build_index
from pseudorel.retrieval.calibration import choose_backend
from pseudorel.retrieval.embedding_store import encode_by_content
from pseudorel.retrieval.encoding import encode_texts
from pseudorel.retrieval.models import DEFAULT_BI_ENCODER, load_bi_encoder, model_fingerprint, resolve_model


class DenseRetriever:
    """Nearest-neighbour search over cached document embeddings: exact, or IVF / HNSW (``index``).

    Cosine models (the sentence-transformers default) are searched on L2-normalised
    vectors, dot-product models on raw ones.
    """

    def __init__(
        self,
        corpus: dict[str, Document],
        model: str = DEFAULT_BI_ENCODER,
        batch_size: int = 32,
        precision: str = "auto",  # a backend: auto (measured), torch-fp32, torch-bf16, onnx-fp32, onnx-int8, openvino
        use_cache: bool = True,
        progress: bool = True,
        executor=None,
        index: IndexSettings | None = None,
    ):

        self.model_name = model
        self.model = load_bi_encoder(model)
        self.model_id = model_fingerprint(resolve_model(model))
        similarity = getattr(self.model, "similarity_fn_name", None) or "cosine"
        if similarity not in ("cosine", "dot"):
            raise ValueError(f"{model}: similarity '{similarity}' not supported (cosine or dot)")
        self.normalize = similarity == "cosine"
        # the backend is chosen once (measured once per machine and model, then cached): every
        # later encode, a service's one-off queries included, runs by it without re-deciding
        sample = random.Random(0).sample(sorted(corpus), min(32, len(corpus)))
        texts = [corpus[d].full_text for d in sample]
        self.backend = choose_backend(self.model, texts, precision, work=len(corpus)) if texts else None
        backend = self.backend.backend if self.backend else "torch-fp32"
        self.settings = {"batch_size": batch_size, "precision": backend, "use_cache": use_cache}
        self.executor = executor  # None: encode here; else shards run where it says (workers load ``model``)
        self.progress = progress
        self.doc_ids = list(corpus)
        self.encode_stats: dict = {}
        doc_emb = self.encode_documents([corpus[d].full_text for d in self.doc_ids], self.encode_stats)
        self.index = build_index(doc_emb, index)

    def encode_documents(self, texts: list[str], stats: dict | None = None) -> np.ndarray:
        """Document embeddings, cached per text (a document encoded for any earlier corpus is
        not encoded again); ``stats`` receives how many were encoded now and how long it took."""
        if not self.settings["use_cache"]:
            return self.encode(texts, task="document", desc="encode corpus")
        emb = encode_by_content(
            self.model,
            texts,
            self.model_id,
            task="document",
            precision=self.settings["precision"],
            batch_size=self.settings["batch_size"],
            progress=self.progress,
            desc="encode corpus",
            executor=self.executor,
            model_name=self.model_name,
            stats=stats,
        )
        return self._normalized(emb)

    def encode(
        self, texts: list[str], task: str | None = None, desc: str = "encode", use_cache: bool | None = None
    ) -> np.ndarray:
        """Embeddings of ``texts``; ``task`` (query or document) routes an asymmetric model;
        ``use_cache=False`` skips the disk cache (a service's one-off queries)."""
        settings = self.settings if use_cache is None else {**self.settings, "use_cache": use_cache}
        emb = encode_texts(
            self.model,
            texts,
            self.model_id,
            task=task,
            progress=self.progress,
            desc=desc,
            executor=self.executor,
            model_name=self.model_name,
            **settings,
        )
        return self._normalized(emb)

    def _normalized(self, emb: np.ndarray) -> np.ndarray:
        if self.normalize:
            norms = np.linalg.norm(emb, axis=1, keepdims=True)
            emb = emb / np.maximum(norms, 1e-12)
        return np.ascontiguousarray(emb, dtype=np.float32)

    def search(self, queries: dict[str, str], top_k: int = 100) -> Run:
        if not queries:
            return {}
        qids = list(queries)
        q_emb = self.encode([queries[q] for q in qids], task="query", desc="encode queries")
        scores, idx = self.index.search(q_emb, min(top_k, len(self.doc_ids)))
        return {
            qid: {self.doc_ids[i]: float(s) for i, s in zip(idx[row], scores[row], strict=True) if i >= 0}
            for row, qid in enumerate(qids)
        }
