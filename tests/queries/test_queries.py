import pytest

from pseudorel.data import load_beir
from pseudorel.data.types import Document
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


def test_sentence_split_of_lower_cased_text():
    # Cranfield style: no capitals, a space before the full stop
    assert sentences("a wing in a slipstream . an experimental study. results 2 follow") == [
        "a wing in a slipstream",
        "an experimental study",
        "results 2 follow",
    ]


def test_several_sentences_per_document(corpus):
    corpus = dict(corpus)
    corpus["long"] = Document(
        "Sleep and memory",
        "Sleep helps consolidate new memories overnight. Deprivation of sleep impairs recall the next day. "
        "Short naps also improve learning in adults. Too short.",
    )
    one = synthetic_queries(corpus, ("title", "ict"), seed=0)
    many = synthetic_queries(corpus, ("title", "ict"), seed=0, per_document=100)
    assert len(many) > len(one)
    assert len({q.id for q in many}) == len(many)  # ids stay unique: kind:doc_id, then kind:doc_id#n
    assert {q.id for q in many if q.doc_id == "long"} == {"title:long", "ict:long", "ict:long#2", "ict:long#3"}
    for doc_id, doc in corpus.items():
        drawn = [q.text for q in many if q.doc_id == doc_id and q.source == "ict"]
        usable = [s for s in sentences(doc.text) if 5 <= len(s.split()) <= 40]
        assert sorted(drawn) == sorted(dict.fromkeys(usable))  # every usable sentence, each once
    assert sum(q.source == "title" for q in many) == sum(q.source == "title" for q in one)
    two = synthetic_queries(corpus, ("ict",), seed=0, per_document=2)
    assert sum(q.doc_id == "long" for q in two) == 2
    with pytest.raises(ValueError, match="per_document"):
        synthetic_queries(corpus, ("ict",), per_document=0)


def test_roundtrip_and_log(tmp_path):
    queries = [Query("a", "first", "log"), Query("title:d1", "Vitamin D", "title", "d1")]
    write_queries(queries, tmp_path / "q.jsonl")
    assert read_query_file(tmp_path / "q.jsonl") == queries
    (tmp_path / "log.tsv").write_text("1\twhat is bm25\n2\tdense retrieval\n")
    assert queries_from_log(tmp_path / "log.tsv") == [Query("1", "what is bm25"), Query("2", "dense retrieval")]
    (tmp_path / "bad.jsonl").write_text('{"_id": "a", "text": "x", "source": "dream"}\n')
    with pytest.raises(InputError, match=r"bad.jsonl:1: unknown query source 'dream'"):
        read_query_file(tmp_path / "bad.jsonl")
