"""Build a retriever from a spec string: ``bm25``, ``dense[:MODEL]`` or ``hybrid[:MODEL]``."""

from __future__ import annotations

from typing import Protocol

from pseudorel.data.types import Document, Run
from pseudorel.errors import UsageError
from pseudorel.retrieval.bm25 import BM25Retriever
from pseudorel.retrieval.fusion import reciprocal_rank_fusion
from pseudorel.retrieval.models import DEFAULT_BI_ENCODER

RETRIEVER_KINDS = ("bm25", "dense", "hybrid")


class Retriever(Protocol):
    def search(self, queries: dict[str, str], top_k: int = 100) -> Run: ...


class HybridRetriever:
    """BM25 and dense runs fused by reciprocal rank fusion, each taken to ``depth``."""

    def __init__(self, sparse: Retriever, dense: Retriever, depth: int = 100, k: int = 60):
        self.sparse, self.dense, self.depth, self.k = sparse, dense, depth, k

    def search(self, queries: dict[str, str], top_k: int = 100) -> Run:
        depth = max(self.depth, top_k)
        runs = [self.sparse.search(queries, depth), self.dense.search(queries, depth)]
        return reciprocal_rank_fusion(runs, k=self.k, top_k=top_k)


def parse_spec(spec: str) -> tuple[str, str | None]:
    kind, _, model = spec.partition(":")
    if kind not in RETRIEVER_KINDS:
        raise UsageError(f"unknown retriever '{spec}': use bm25, dense[:MODEL] or hybrid[:MODEL]")
    if kind == "bm25" and model:
        raise UsageError("bm25 takes no model")
    return kind, model or None


def dense_models(specs) -> tuple[str, ...]:
    """The dense models that retriever specs name, in order (``dense`` alone: the default bi-encoder)."""
    return tuple(model or DEFAULT_BI_ENCODER for kind, model in map(parse_spec, specs) if kind != "bm25")


def build_retriever(spec: str, corpus: dict[str, Document], **dense_options) -> Retriever:
    from pseudorel.retrieval.dense import DenseRetriever  # start-up: loads numpy

    kind, model = parse_spec(spec)
    if kind == "bm25":
        return BM25Retriever(corpus)
    dense = DenseRetriever(corpus, model=model or DEFAULT_BI_ENCODER, **dense_options)
    if kind == "dense":
        return dense
    return HybridRetriever(BM25Retriever(corpus), dense)
