"""The document-tower stage: trained against the frozen query embeddings of a trained query tower."""

import json

import numpy as np
import pytest
from sentence_transformers import SentenceTransformer

from pseudorel.training.document_tower import DocumentTowerSettings, document_targets, train_document_tower
from pseudorel.training.frozen_index import IndexTargets
from pseudorel.training.query_tower import QueryTowerSettings, train_query_tower


def test_document_targets_transpose_query_rows_and_drop_documents_without_mass():
    queries = IndexTargets(["a", "b"], ["qa", "qb"], [([0, 1], [0.7, 0.3]), ([1, 2], [0.9, 0.1])])
    corpus_ids = ["d0", "d1", "d2"]
    corpus = {d: type("Doc", (), {"full_text": f"text of {d}"})() for d in corpus_ids}
    out = document_targets(queries, corpus_ids, corpus, min_mass=0.5)
    assert out.ids == ["d0", "d1"] and out.skipped == 1  # d2 gets 0.1 in all
    assert out.texts == ["text of d0", "text of d1"]
    assert out.rows[0] == ([0], [0.7])
    assert out.rows[1][0] == [0, 1] and out.rows[1][1] == pytest.approx([0.3, 0.9])


def two_stages(labelled, tiny_model_path, tmp_path, query_settings, document_settings):
    corpus, frame = labelled
    train_query_tower(str(tiny_model_path), frame, corpus, tmp_path / "query", query_settings)
    out = tmp_path / "retriever"
    train_document_tower(tmp_path / "query", frame, corpus, out, query_settings, document_settings, {"teacher": "t"})
    paths = {"stage1": tmp_path / "query", "final": out}
    models = {name: SentenceTransformer(str(p), device="cpu") for name, p in paths.items()}
    return models, json.loads((out / "pseudorel.json").read_text())


def test_document_tower_trains_documents_and_keeps_the_trained_queries(labelled, tiny_model_path, tmp_path):
    query_settings = QueryTowerSettings(epochs=2, batch_size=4, eval_fraction=0.0, learning_rate=1e-3)
    document_settings = DocumentTowerSettings(
        epochs=2, batch_size=4, eval_fraction=0.0, learning_rate=1e-3, min_mass=0.0
    )
    models, card = two_stages(labelled, tiny_model_path, tmp_path, query_settings, document_settings)
    text = ["vitamin d deficiency"]
    stage1, final = models["stage1"], models["final"]
    assert np.allclose(final.encode_query(text), stage1.encode_query(text), atol=1e-5)
    assert not np.allclose(final.encode_document(text), stage1.encode_document(text), atol=1e-3)
    assert card["kept_trained_document_tower"] and card["teacher"] == "t"
    assert card["training_documents"] == len(labelled[0])
    assert card["document_steps_done"] == card["document_steps"] > 0
    assert card["query_tower"]["training_queries"] > 0  # the first stage's card travels with the model


def test_document_tower_is_dropped_when_held_out_queries_rank_worse(labelled, tiny_model_path, tmp_path):
    query_settings = QueryTowerSettings(epochs=1, batch_size=4, eval_fraction=0.3, learning_rate=1e-3)
    # a learning rate this large wrecks the document tower; the query stage's held-out queries must notice
    document_settings = DocumentTowerSettings(
        epochs=1, batch_size=4, eval_fraction=0.0, learning_rate=5.0, min_mass=0.0
    )
    models, card = two_stages(labelled, tiny_model_path, tmp_path, query_settings, document_settings)
    judged = card["held_out_query_likelihood"]
    assert judged["trained"] < judged["base"] and not card["kept_trained_document_tower"]
    text = ["vitamin d deficiency"]
    assert np.allclose(models["final"].encode_document(text), models["stage1"].encode_document(text), atol=1e-5)
