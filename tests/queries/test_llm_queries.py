import pytest

from pseudorel.data import load_beir
from pseudorel.llm import OpenAIChatBackend
from pseudorel.queries.llm_queries import llm_queries
from tests.llm import stub_server


def test_llm_queries_deduplicated_with_source(tiny_dataset_path):
    server, state, url = stub_server.start()
    try:
        corpus = load_beir(tiny_dataset_path, splits=[]).corpus
        queries, stats = llm_queries(OpenAIChatBackend(url, "stub"), corpus, ["d1", "d2"], n=3)
        assert stats["requests"] == 6 == len(state.requests)
        assert stats["duplicates"] == 2 and stats["generated"] == 4
        assert [q.text for q in queries if q.doc_id == "d1"] == ["Vitamin D Vitamin D", "D Vitamin D deficiency"]
        assert all(q.source == "llm" and q.id.startswith(f"llm:{q.doc_id}:") for q in queries)
        unreachable = OpenAIChatBackend("http://127.0.0.1:9/v1", "x", retries=0)
        none, failed = llm_queries(unreachable, corpus, ["d1"], n=1)
        assert none == [] and failed["failed"] == 1
        _, timed = llm_queries(OpenAIChatBackend(url, "stub"), corpus, ["d1", "d2"], max_seconds=0.0)
        assert timed["requests"] == 0
    finally:
        server.shutdown()


def test_llm_queries_framed_in_the_corpus_terms(tiny_dataset_path):
    server, state, url = stub_server.start()
    try:
        corpus = load_beir(tiny_dataset_path, splits=[]).corpus
        queries, _ = llm_queries(OpenAIChatBackend(url, "stub"), corpus, ["d1"], domain="claim")
        system, user = (m["content"] for m in state.requests[0]["messages"])
        assert "write one short claim" in system and "the abstract is evidence" in system
        assert user.startswith("Abstract: ") and queries[0].text == "Vitamin D Vitamin D"
        with pytest.raises(ValueError, match="unknown query domain 'poem'"):
            llm_queries(OpenAIChatBackend(url, "stub"), corpus, ["d1"], domain="poem")
    finally:
        server.shutdown()
