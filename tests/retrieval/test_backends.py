"""Exported backends (ONNX Runtime, OpenVINO) rank like PyTorch; the export is made once."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pseudorel.retrieval.backends import available_backends, export_graph, with_backend
from pseudorel.retrieval.batch import encode_batch
from pseudorel.retrieval.models import load_bi_encoder

EXPORTED = [b for b in ("onnx-fp32", "openvino") if b in available_backends()]


def _texts(tiny_dataset_path) -> tuple[list[str], list[str]]:
    docs = [json.loads(line) for line in (tiny_dataset_path / "corpus.jsonl").read_text().splitlines()]
    queries = [json.loads(line)["text"] for line in (tiny_dataset_path / "queries.jsonl").read_text().splitlines()]
    return [f"{d.get('title', '')} {d['text']}" for d in docs], queries


def test_onnx_runtime_is_installed():
    assert {"onnx-fp32", "onnx-int8"} <= set(available_backends())


@pytest.mark.parametrize("backend", EXPORTED)
def test_exported_graph_ranks_like_pytorch(tiny_model_path, tiny_dataset_path, backend):
    model = load_bi_encoder(str(tiny_model_path))
    docs, queries = _texts(tiny_dataset_path)
    reference = (
        encode_batch(model, docs, 4, "fp32", None, "document")
        @ encode_batch(model, queries, 4, "fp32", None, "query").T
    )
    runner = with_backend(model, backend)
    assert runner is not model
    scores = (
        encode_batch(runner, docs, 4, backend, None, "document")
        @ encode_batch(runner, queries, 4, backend, None, "query").T
    )
    assert np.allclose(scores, reference, atol=1e-4)
    for query in range(reference.shape[1]):  # the same ranking, up to ties within the tolerance
        in_reference_order = scores[np.argsort(-reference[:, query]), query]
        assert (np.diff(in_reference_order) <= 2e-4).all()


def test_int8_runs_and_stays_close(tiny_model_path, tiny_dataset_path):
    model = load_bi_encoder(str(tiny_model_path))
    docs, _ = _texts(tiny_dataset_path)
    fp32 = encode_batch(model, docs, 4, "fp32", None, "document")
    int8 = encode_batch(with_backend(model, "onnx-int8"), docs, 4, "onnx-int8", None, "document")
    assert int8.shape == fp32.shape
    assert np.allclose(np.linalg.norm(int8, axis=1), 1.0, atol=1e-4)  # the Normalize module is in the graph
    assert (int8 * fp32).sum(1).min() > 0.9


def test_export_is_made_once_and_leaves_nothing_half_written(tiny_model_path):
    model = load_bi_encoder(str(tiny_model_path))
    first = export_graph(model, "plain")
    stamp = first.stat().st_mtime_ns
    assert export_graph(load_bi_encoder(str(tiny_model_path)), "plain") == first
    assert first.stat().st_mtime_ns == stamp
    assert sorted(p.name for p in first.parent.iterdir()) == ["model.onnx"]


def test_pytorch_backends_are_the_model_itself(tiny_model_path):
    model = load_bi_encoder(str(tiny_model_path))
    assert with_backend(model, "torch-fp32") is model


def test_weights_digest_follows_in_place_training(tiny_model_path):
    import torch

    from pseudorel.retrieval.backends import weights_digest

    model = load_bi_encoder(str(tiny_model_path))
    first = weights_digest(model)
    assert weights_digest(model) == first  # remembered while nothing changed
    with torch.no_grad():
        next(model.parameters()).add_(1.0)  # what an optimiser step does
    assert weights_digest(model) != first
