"""Issue 14, item 10: file modes, reproducible reranker heads, short base models, clear input errors."""

import json
import os

import pytest
import torch

from pseudorel._io import atomic_write
from pseudorel.data import load_beir
from pseudorel.errors import InputError
from pseudorel.training.cross_encoder import CrossTrainSettings, train_cross_encoder
from pseudorel.training.examples import ExampleSettings, build_examples
from tests.cli.test_cli import run_cli


@pytest.mark.fault("a file written atomically under umask 022", "gets mode 0644 like any other file, not 0600")
def test_atomic_files_honour_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_write(tmp_path / "f.txt") as f:
            f.write("x")
    finally:
        os.umask(old)
    assert (tmp_path / "f.txt").stat().st_mode & 0o777 == 0o644


@pytest.mark.fault(
    "reranker trained twice with the same seed, on a base model with 128 positions and long documents",
    "identical weights (seed set before the new head); texts cut to the model's 128 positions, no crash",
)
def test_reranker_is_reproducible_and_fits_short_models(labelled, tiny_model_path, tmp_path):
    corpus, frame = labelled
    long = {d: type(doc)(doc.title, " ".join([doc.text] * 40)) for d, doc in corpus.items()}  # > 128 tokens
    settings = CrossTrainSettings(epochs=1, batch_size=4, bf16=False, negatives=1)
    pairs = build_examples(frame, long, ExampleSettings(negatives=1)).to_dataset("none").to_dict()
    assert max(len(text.split()) for text in pairs["positive"]) > 128
    models = [train_cross_encoder(str(tiny_model_path), frame, long, tmp_path / f"r{i}", settings) for i in (0, 1)]
    first, second = (dict(m.model.named_parameters()) for m in models)
    assert all(torch.equal(first[name], second[name]) for name in first)
    assert models[0].max_length == 128


@pytest.mark.fault("a BEIR folder with qrels but no queries.jsonl", "the error names queries.jsonl, not the qrels")
def test_missing_queries_file_is_named(tmp_path, tiny_dataset_path):
    folder = tmp_path / "ds"
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text((tiny_dataset_path / "corpus.jsonl").read_text())
    (folder / "qrels" / "test.tsv").write_text((tiny_dataset_path / "qrels" / "test.tsv").read_text())
    with pytest.raises(InputError, match=r"queries\.jsonl: missing"):
        load_beir(folder, splits=["test"])


@pytest.mark.fault("label with queries whose source document is not in the corpus", "one-line error, exit 2")
def test_label_rejects_foreign_source_documents(monkeypatch, capsys, tmp_path):
    queries = tmp_path / "q.jsonl"
    queries.write_text(json.dumps({"_id": "s1", "text": "bones", "source": "title", "doc_id": "elsewhere"}) + "\n")
    args = ["label", "--dataset", "tiny", "--queries", str(queries), "--output", str(tmp_path / "l.parquet")]
    code, _, err = run_cli(monkeypatch, capsys, *args, "--retrievers", "bm25")
    assert code == 2 and "1 queries name a source document that is not in the corpus, e.g. 'elsewhere'" in err
