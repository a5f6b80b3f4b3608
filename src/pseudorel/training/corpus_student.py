"""Sampled mode's student: what it learns from, and how fast it reads the corpus.

It distils the expensive teacher's embeddings of the texts the teacher read: the training
queries and their candidate documents. The guard's held-out queries are left out, and so are
documents that only held-out queries retrieved, so the guard judges the student on queries it
never saw and, as far as the sample allows, on documents it was never shown.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from pseudorel.data.types import Document
from pseudorel.training.embedding_student import EmbeddingStudentSettings, train_embedding_student


def distillation_texts(labels: pd.DataFrame, corpus: dict[str, Document], held_out) -> tuple[list[str], list[str]]:
    """(query texts, document texts) the student learns from: the training queries' and their candidates'."""
    train = labels[~labels["query_id"].isin(set(held_out))]
    queries = list(dict.fromkeys(train["query_text"]))
    docs = list(dict.fromkeys(train["doc_id"]))
    return queries, [corpus[d].full_text for d in docs]


def teacher_embeddings(teacher: str, queries: list[str], documents: list[str]) -> np.ndarray:
    """The expensive teacher's embeddings of ``queries`` then ``documents`` (from its per-text cache:
    the sampled pass encoded them already)."""
    from pseudorel.retrieval.embedding_store import encode_by_content
    from pseudorel.retrieval.models import load_bi_encoder, model_fingerprint, resolve_model

    model = load_bi_encoder(teacher)
    model_id = model_fingerprint(resolve_model(teacher))
    q = encode_by_content(model, queries, model_id, task="query", model_name=teacher, desc=f"{teacher}: queries")
    d = encode_by_content(model, documents, model_id, task="document", model_name=teacher, desc=f"{teacher}: documents")
    return np.concatenate([q, d])


def train_corpus_student(
    base_model: str,
    teacher: str,
    labels: pd.DataFrame,
    corpus: dict[str, Document],
    held_out,
    output: Path,
    settings: EmbeddingStudentSettings,
    card: dict | None = None,
) -> dict:
    """Train (or reuse) the student in ``output``; returns what it learnt from."""
    queries, documents = distillation_texts(labels, corpus, held_out)
    targets = teacher_embeddings(teacher, queries, documents)
    train_embedding_student(base_model, queries + documents, targets, output, settings, card)
    return {"queries": len(queries), "documents": len(documents), "teacher": teacher}


def corpus_pass_rate(model_path: str, corpus: dict[str, Document], sample: int = 256) -> float:
    """Documents/s the student encodes a seeded sample of the corpus at (no cache)."""
    import random

    from pseudorel.retrieval.encoding import encode_texts
    from pseudorel.retrieval.models import load_bi_encoder

    ids = random.Random(0).sample(sorted(corpus), min(sample, len(corpus)))
    texts = [corpus[d].full_text for d in ids]
    model = load_bi_encoder(model_path)
    start = time.perf_counter()
    encode_texts(model, texts, "rate", use_cache=False, progress=False)
    return len(texts) / max(time.perf_counter() - start, 1e-6)
