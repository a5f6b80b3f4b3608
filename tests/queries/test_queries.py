import pytest

from pseudorel.data import load_beir
from pseudorel.errors import InputError
from pseudorel.queries import Query, queries_from_log, read_query_file, synthetic_queries, write_queries
from pseudorel.queries.synthetic import sentences


@pytest.fixture
def corpus(tiny_dataset_path):
    return load_beir(tiny_dataset_path).corpus


def test_title_and_ict_queries_record_their_source(corpus):
    queries = synthetic_queries(corpus, ("title", "ict", "span"), seed=1)
    titles = [q for q in queries if q.source == "title"]
    assert {q.text for q in titles} == {d.title for d in corpus.values()}
    for q in queries:
        assert q.synthetic and q.doc_id in corpus
        assert q.id == f"{q.source}:{q.doc_id}"
        if q.source in ("ict", "span"):
            assert q.text in corpus[q.doc_id].text


def test_seeded_and_deduplicated(corpus):
    a = synthetic_queries(corpus, ("span",), seed=3, max_docs=5)
    assert a == synthetic_queries(corpus, ("span",), seed=3, max_docs=5)
    assert len({q.doc_id for q in a}) == 5
    doubled = {**corpus, "copy": corpus["d1"]}
    texts = [q.text.lower() for q in synthetic_queries(doubled, ("title",))]
    assert len(texts) == len(set(texts))
    with pytest.raises(ValueError, match="unknown query kind"):
        synthetic_queries(corpus, ("poem",))


def test_sentence_split():
    assert sentences("One thing. Two things! 3 more? end") == ["One thing.", "Two things!", "3 more? end"]


def test_roundtrip_and_log(tmp_path):
    queries = [Query("a", "first", "log"), Query("title:d1", "Vitamin D", "title", "d1")]
    write_queries(queries, tmp_path / "q.jsonl")
    assert read_query_file(tmp_path / "q.jsonl") == queries
    (tmp_path / "log.tsv").write_text("1\twhat is bm25\n2\tdense retrieval\n")
    assert queries_from_log(tmp_path / "log.tsv") == [Query("1", "what is bm25"), Query("2", "dense retrieval")]
    (tmp_path / "bad.jsonl").write_text('{"_id": "a", "text": "x", "source": "dream"}\n')
    with pytest.raises(InputError, match=r"bad.jsonl:1: unknown query source 'dream'"):
        read_query_file(tmp_path / "bad.jsonl")
