"""Fixtures shared by the system tests."""

from __future__ import annotations

import pytest

from pseudorel.data import load_beir
from pseudorel.labels.pipeline import LabelSettings, label_pairs
from pseudorel.queries import Query, synthetic_queries


@pytest.fixture
def teacher_labels(tmp_path, tiny_dataset_path, tiny_model_path, tiny_teacher_path):
    """Every fixture query labelled by the teacher BM25 + base model + a wider model, interpolated."""
    ds = load_beir(tiny_dataset_path, splits=[])
    queries = [Query(q, t) for q, t in ds.queries.items()] + synthetic_queries(ds.corpus, ("title", "ict"))
    retrievers = ("bm25", f"dense:{tiny_model_path}", f"dense:{tiny_teacher_path}")
    labels, _ = label_pairs(ds.corpus, queries, LabelSettings(retrievers=retrievers), tmp_path / "w", progress=False)
    return ds.corpus, labels
