from pseudorel.data import load_beir
from pseudorel.retrieval.bm25 import BM25Retriever


def test_bm25_ranks_lexical_matches_first(tiny_dataset_path):
    ds = load_beir(tiny_dataset_path)
    run = BM25Retriever(ds.corpus).search(ds.split_queries("test"), top_k=3)
    assert next(iter(run["q1"])) in {"d1", "d2"}
    assert set(run["q1"]) >= {"d1", "d2"}
    assert next(iter(run["q2"])) in {"d5", "d6"}
    assert all(len(docs) <= 3 for docs in run.values())
    scores = list(run["q1"].values())
    assert scores == sorted(scores, reverse=True)


def test_bm25_query_matching_nothing_returns_no_documents(tiny_dataset_path):
    ds = load_beir(tiny_dataset_path)
    run = BM25Retriever(ds.corpus).search({"q": "the and of", "z": "zebra"}, top_k=5)
    assert run == {"q": {}, "z": {}}


def test_bm25_top_k_larger_than_corpus(tiny_dataset_path):
    ds = load_beir(tiny_dataset_path)
    run = BM25Retriever(ds.corpus).search({"q": "risk"}, top_k=1000)
    assert set(run["q"]) == {"d1", "d3", "d7"}
