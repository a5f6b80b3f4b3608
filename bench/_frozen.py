"""Scoring queries against the base model's frozen corpus index, for the diagnostics in
bench/index_ceiling.py and bench/adapt.py (fit_gap, the Cranfield linear adapter)."""

from __future__ import annotations

import torch
from torch.nn import functional as F

from pseudorel.training.losses.corpus_distillation import teacher_log_likelihood

BASE = "all-MiniLM-L6-v2"


def base_index(corpus: dict) -> tuple:
    """(the base model, the corpus's ids, its L2-normalised embeddings ``[N, dim]``; cached)."""
    from sentence_transformers import SentenceTransformer

    from pseudorel.retrieval.models import model_fingerprint, resolve_model
    from pseudorel.training.frozen_index import corpus_index

    path = resolve_model(BASE)
    base = SentenceTransformer(path, device="cpu")
    doc_ids = list(corpus)
    return base, doc_ids, F.normalize(corpus_index(base, model_fingerprint(path), corpus, doc_ids), dim=-1)


def likelihood(queries: torch.Tensor, documents: torch.Tensor, docs: torch.Tensor, weights: torch.Tensor, scale: float):
    """``[B]`` teacher-label log-likelihood of each query against the whole index (the query tower's loss, negated)."""
    return teacher_log_likelihood(scale * F.normalize(queries, dim=-1) @ documents.T, docs, weights)


def run_of(queries: torch.Tensor, documents: torch.Tensor, qids: list[str], doc_ids: list[str], k: int = 100) -> dict:
    """The top ``k`` documents of each query by cosine, as a run."""
    top = (F.normalize(queries, dim=-1) @ documents.T).topk(k, dim=1)
    return {
        q: {doc_ids[j]: float(s) for j, s in zip(top.indices[i].tolist(), top.values[i].tolist(), strict=True)}
        for i, q in enumerate(qids)
    }
