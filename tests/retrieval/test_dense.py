import numpy as np
import pytest

from pseudorel.data import load_beir
from pseudorel.errors import UsageError
from pseudorel.retrieval import encoding
from pseudorel.retrieval.dense import DenseRetriever
from pseudorel.retrieval.factory import HybridRetriever, build_retriever, parse_spec


@pytest.fixture
def corpus(tiny_dataset_path):
    return load_beir(tiny_dataset_path).corpus


@pytest.fixture
def count_encoded(monkeypatch):
    counted = []
    original = encoding.encode_batch

    def counting(model, texts, *args):
        counted.append(len(texts))
        return original(model, texts, *args)

    monkeypatch.setattr(encoding, "encode_batch", counting)
    return counted


def test_dense_search_is_exact_inner_product(corpus, tiny_model_path):
    retriever = DenseRetriever(corpus, model=str(tiny_model_path), progress=False)
    run = retriever.search({"q": "vitamin d bones"}, top_k=4)
    assert len(run["q"]) == 4
    docs = list(corpus)
    doc_emb = retriever.encode([corpus[d].full_text for d in docs])
    q_emb = retriever.encode(["vitamin d bones"])[0]
    sims = dict(zip(docs, doc_emb @ q_emb, strict=True))
    for doc_id, score in run["q"].items():
        assert score == pytest.approx(float(sims[doc_id]), abs=1e-5)
    left_out = [s for d, s in sims.items() if d not in run["q"]]
    assert min(run["q"].values()) >= max(left_out) - 1e-6
    assert np.allclose(np.linalg.norm(doc_emb, axis=1), 1.0, atol=1e-5)


def test_embeddings_cached_between_runs(corpus, tiny_model_path, count_encoded):
    first = DenseRetriever(corpus, model=str(tiny_model_path), progress=False)
    assert sum(count_encoded) == len(corpus)
    second = DenseRetriever(corpus, model=str(tiny_model_path), progress=False)
    assert sum(count_encoded) == len(corpus)  # nothing re-encoded
    assert first.search({"q": "salt"}, 3) == second.search({"q": "salt"}, 3)


def test_interrupted_encoding_resumes_from_finished_shards(tiny_model_path, count_encoded, monkeypatch):
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(tiny_model_path), device="cpu")
    texts = [f"text number {i} " + "word " * (i % 7) for i in range(10)]
    original = encoding.encode_batch
    calls = []

    def dying(model, batch, *args):
        calls.append(len(batch))
        if len(calls) == 3:
            raise KeyboardInterrupt
        return original(model, batch, *args)

    monkeypatch.setattr(encoding, "encode_batch", dying)
    with pytest.raises(KeyboardInterrupt):
        encoding.encode_texts(model, texts, "m", shard_size=3, progress=False)
    monkeypatch.setattr(encoding, "encode_batch", original)
    resumed_calls = []
    monkeypatch.setattr(encoding, "encode_batch", lambda m, b, *a: resumed_calls.append(len(b)) or original(m, b, *a))
    resumed = encoding.encode_texts(model, texts, "m", shard_size=3, progress=False)
    assert resumed_calls == [3, 1]  # shards 0 and 1 came from disk
    fresh = encoding.encode_texts(model, texts, "m", shard_size=3, progress=False, use_cache=False)
    assert np.allclose(resumed, fresh, atol=1e-5)


def test_bf16_close_to_fp32(tiny_model_path):
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(tiny_model_path), device="cpu")
    texts = ["vitamin d bones", "coffee and liver disease"]
    fp32 = encoding.encode_texts(model, texts, "m", progress=False, use_cache=False)
    bf16 = encoding.encode_texts(model, texts, "m", precision="bf16", progress=False, use_cache=False)
    assert bf16.dtype == np.float32
    assert np.allclose(fp32, bf16, atol=0.05)


def test_hybrid_and_specs(corpus, tiny_model_path):
    assert parse_spec("dense:some/model") == ("dense", "some/model")
    with pytest.raises(UsageError):
        parse_spec("splade")
    with pytest.raises(UsageError):
        parse_spec("bm25:x")
    hybrid = build_retriever(f"hybrid:{tiny_model_path}", corpus, progress=False)
    assert isinstance(hybrid, HybridRetriever)
    run = hybrid.search({"q": "blood pressure"}, top_k=5)
    assert len(run["q"]) == 5
    assert set(run["q"]) & {"d5", "d6"}


def test_progress_counts_documents_and_quiet_silences_it(tiny_dataset_path, tiny_model_path, capsys, monkeypatch):
    from pseudorel.data import load_beir
    from pseudorel.retrieval.dense import DenseRetriever

    corpus = load_beir(tiny_dataset_path, splits=["test"]).corpus
    DenseRetriever(corpus, str(tiny_model_path), batch_size=2)
    err = capsys.readouterr().err
    assert f"{len(corpus)}/{len(corpus)}" in err and "doc/s" in err  # documents, not shards
    monkeypatch.setenv("TQDM_DISABLE", "1")  # what `pseudorel --quiet` sets
    DenseRetriever(corpus, str(tiny_model_path), batch_size=2, use_cache=False)
    assert "encode corpus" not in capsys.readouterr().err
