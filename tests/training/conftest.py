"""Pseudo-labels of the tiny fixture, shared by the student tests."""

import pytest

from pseudorel.data import load_beir
from pseudorel.labels.pipeline import LabelSettings, label_pairs
from pseudorel.queries import Query, synthetic_queries


@pytest.fixture
def labelled(tmp_path, tiny_dataset_path):
    ds = load_beir(tiny_dataset_path, splits=[])
    queries = [Query(q, t) for q, t in ds.queries.items()] + synthetic_queries(ds.corpus, ("title", "ict"))
    frame, _ = label_pairs(ds.corpus, queries, LabelSettings(retrievers=("bm25",)), tmp_path / "w", progress=False)
    return ds.corpus, frame
