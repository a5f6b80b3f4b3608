"""Retrieval: BM25, dense (sentence-transformers + faiss) and their fusion."""

from pseudorel.retrieval.factory import HybridRetriever, Retriever, build_retriever, parse_spec
from pseudorel.retrieval.fusion import reciprocal_rank_fusion

__all__ = ["HybridRetriever", "Retriever", "build_retriever", "parse_spec", "reciprocal_rank_fusion"]
