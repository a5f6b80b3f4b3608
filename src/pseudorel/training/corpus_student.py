"""Sampled mode's student: what it learns from, and how fast it reads the corpus.

Two kinds, each trained only on what the expensive teacher read for the training queries (the
guard's held-out queries are left out, and so are documents that only they retrieved):

- ``query`` (the default): the base model's query tower learns the expensive teacher's own
  calibrated judgment of each training query's candidates, against the corpus embedded once by
  the base model (``training/query_tower.py``). Its document side is the base model's, so it
  adds no corpus pass: fused with BM25 and the base model it stands where the expensive
  teacher stood in the teacher's fusion.
- ``embedding``: the base model plus a projection learns the expensive teacher's embeddings of
  those queries and documents (``training/embedding_student.py``), and re-encodes the corpus.

On Cranfield (bench/results/distill.md) the query tower was the better of the two (alone
0.4011 against 0.3657 test nDCG@10; MiniLM 0.3813), at a twentieth of the training time.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from pseudorel.data.types import Document
from pseudorel.fingerprints import corpus_digest, fingerprint, frame_digest, model_id
from pseudorel.retrieval.embedding_store import encode_by_content
from pseudorel.retrieval.encoding import encode_texts
from pseudorel.retrieval.factory import dense_models
from pseudorel.retrieval.models import load_bi_encoder, model_fingerprint, resolve_model
from pseudorel.teachers.registry import prob_column
from pseudorel.training._run import claim_output
from pseudorel.training.embedding_student import EmbeddingStudentSettings, train_embedding_student
from pseudorel.training.query_tower import QueryTowerSettings, train_query_tower


def distillation_texts(labels: pd.DataFrame, corpus: dict[str, Document], held_out) -> tuple[list[str], list[str]]:
    """(query texts, document texts) the student learns from: the training queries' and their candidates'."""
    train = labels[~labels["query_id"].isin(set(held_out))]
    queries = list(dict.fromkeys(train["query_text"]))
    docs = list(dict.fromkeys(train["doc_id"]))
    return queries, [corpus[d].full_text for d in docs]


def teacher_embeddings(teacher: str, queries: list[str], documents: list[str]) -> np.ndarray:
    """The expensive teacher's embeddings of ``queries`` then ``documents`` (from its per-text cache:
    the sampled pass encoded them already)."""

    model = load_bi_encoder(teacher)
    model_id = model_fingerprint(resolve_model(teacher))
    q = encode_by_content(model, queries, model_id, task="query", model_name=teacher, desc=f"{teacher}: queries")
    d = encode_by_content(model, documents, model_id, task="document", model_name=teacher, desc=f"{teacher}: documents")
    return np.concatenate([q, d])


STUDENT_KINDS = ("query", "embedding")


def train_corpus_student(
    kind: str,
    base_model: str,
    teacher_spec: str,
    labels: pd.DataFrame,
    corpus: dict[str, Document],
    held_out,
    output: Path,
    settings: EmbeddingStudentSettings | QueryTowerSettings,
) -> dict:
    """Train the student of ``kind`` in ``output`` (fingerprinted: a finished run with the same
    inputs is reused, another run's is replaced) and return what it learnt from and how fast it
    encodes documents here. ``teacher_spec`` is the expensive teacher's retriever spec
    (``dense:nomic``): its calibrated judgment of each pair is the label table's ``prob_dense_nomic``."""

    if kind not in STUDENT_KINDS:
        raise ValueError(f"unknown student kind '{kind}' (use {' or '.join(STUDENT_KINDS)})")
    teacher = dense_models([teacher_spec])[0]
    key = fingerprint(
        "student",
        frame_digest(labels),
        sorted(held_out),
        corpus_digest(corpus),
        model_id(base_model),
        model_id(teacher),
        kind,
        settings,
    )
    claim_output(output, key)
    card = {"teacher": teacher, "fingerprint": key}
    queries, documents = distillation_texts(labels, corpus, held_out)
    record = {"kind": kind, "queries": len(queries), "documents": len(documents), "teacher": teacher}
    if kind == "embedding":
        targets = teacher_embeddings(teacher, queries, documents)
        train_embedding_student(base_model, queries + documents, targets, output, settings, card)
    else:
        column = prob_column(teacher_spec.replace(":", "_"))
        if column not in labels:
            raise ValueError(f"the label table has no {column}: it was not labelled in sampled mode by {teacher_spec}")
        train = labels[~labels["query_id"].isin(set(held_out))]
        train_query_tower(base_model, train.assign(label=train[column]), corpus, output, settings, card)
    record["docs_per_second"] = round(corpus_pass_rate(str(output), corpus), 1)
    return record


def corpus_pass_rate(model_path: str, corpus: dict[str, Document], sample: int = 256) -> float:
    """Documents/s the student encodes a seeded sample of the corpus at (no cache)."""
    import random

    ids = random.Random(0).sample(sorted(corpus), min(sample, len(corpus)))
    texts = [corpus[d].full_text for d in ids]
    model = load_bi_encoder(model_path)
    start = time.perf_counter()
    encode_texts(model, texts, "rate", task="document", use_cache=False, progress=False)
    return len(texts) / max(time.perf_counter() - start, 1e-6)
