import json

import pytest

from pseudorel.data import load_beir, read_corpus, read_qrels, read_queries
from pseudorel.errors import InputError


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def test_load_beir_fixture(tiny_dataset_path):
    ds = load_beir(tiny_dataset_path)
    assert len(ds.corpus) == 10
    assert ds.corpus["d1"].full_text.startswith("Vitamin D Vitamin D deficiency")
    assert set(ds.qrels) == {"test", "train"}
    assert ds.qrels["test"]["q1"] == {"d1": 2, "d2": 1}
    assert list(ds.split_queries("test")) == ["q1", "q2", "q3", "q4"]


def test_load_beir_no_splits_reads_no_qrels(tiny_dataset_path):
    assert load_beir(tiny_dataset_path, splits=[]).qrels == {}


def test_missing_split_names_what_exists(tiny_dataset_path):
    with pytest.raises(InputError, match=r"no qrels for split 'dev' \(splits found: test, train\)"):
        load_beir(tiny_dataset_path, splits=["dev"])


def test_malformed_json_names_file_and_line(tmp_path):
    path = write(tmp_path / "c.jsonl", '{"_id": "a", "text": "x"}\n{"_id": "b", "text": \n')
    with pytest.raises(InputError) as err:
        read_corpus(path)
    assert err.value.line == 2
    assert str(err.value).startswith(f"{path}:2: malformed JSON")


def test_missing_id_and_missing_text(tmp_path):
    with pytest.raises(InputError, match=r":1: missing '_id'"):
        read_corpus(write(tmp_path / "c.jsonl", '{"text": "x"}\n'))
    with pytest.raises(InputError, match=r":2: missing 'text'"):
        read_corpus(write(tmp_path / "d.jsonl", '{"_id": "a", "text": "x"}\n{"_id": "b", "title": "t"}\n'))


def test_non_string_text(tmp_path):
    with pytest.raises(InputError, match=r":1: 'text' must be a string, got int"):
        read_corpus(write(tmp_path / "c.jsonl", '{"_id": "a", "text": 3}\n'))


def test_duplicate_ids(tmp_path):
    lines = [json.dumps({"_id": i, "text": "t"}) for i in ("a", "b", "a")]
    with pytest.raises(InputError, match=r":3: duplicate document id 'a' \(first on line 1\)"):
        read_corpus(write(tmp_path / "c.jsonl", "\n".join(lines)))


def test_empty_corpus(tmp_path):
    with pytest.raises(InputError, match="empty corpus"):
        read_corpus(write(tmp_path / "c.jsonl", "\n\n"))


def test_wrong_encoding_names_line(tmp_path):
    data = '{"_id": "a", "text": "ok"}\n{"_id": "b", "text": "caf\u00e9"}\n'
    with pytest.raises(InputError, match=r":2: not valid UTF-8 \(byte 0xe9"):
        read_corpus(write(tmp_path / "c.jsonl", data, encoding="latin-1"))
    with pytest.raises(InputError, match="UTF-16"):
        read_corpus(write(tmp_path / "u.jsonl", data, encoding="utf-16"))


def test_utf8_bom_is_accepted(tmp_path):
    corpus = read_corpus(write(tmp_path / "c.jsonl", '\ufeff{"_id": "a", "text": "x"}\n'))
    assert list(corpus) == ["a"]


def test_empty_document_warns(tmp_path, caplog):
    read_corpus(write(tmp_path / "c.jsonl", '{"_id": "a", "text": ""}\n{"_id": "b", "text": "x"}\n'))
    assert "1 document(s) have neither title nor text" in caplog.text


def test_csv_and_tsv_corpora(tmp_path):
    csv_corpus = read_corpus(write(tmp_path / "c.csv", 'id,title,text\n1,T,"a, b"\n2,,c\n'))
    assert csv_corpus["1"].text == "a, b" and csv_corpus["2"].title == ""
    tsv_corpus = read_corpus(write(tmp_path / "c.tsv", "1\tfirst doc\n2\tsecond doc\n"))
    assert tsv_corpus["2"].text == "second doc"
    with pytest.raises(InputError, match=r":3: expected 2 columns, found 3"):
        read_corpus(write(tmp_path / "bad.tsv", "1\ta\n2\tb\n3\tc\td\n"))


def test_queries_without_qrels(tmp_path):
    queries = read_queries(write(tmp_path / "q.tsv", "q1\tfirst query\nq2\tsecond\n"))
    assert queries == {"q1": "first query", "q2": "second"}
    with pytest.raises(InputError, match=r":2: query 'q2' has empty text"):
        read_queries(write(tmp_path / "e.jsonl", '{"_id": "q1", "text": "a"}\n{"_id": "q2", "text": " "}\n'))


def test_qrels_beir_and_trec_formats(tmp_path):
    beir = read_qrels(write(tmp_path / "q.tsv", "query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td2\t0\n"))
    trec = read_qrels(write(tmp_path / "q.txt", "q1 0 d1 1\nq1 0 d2 0\n"))
    assert beir == trec == {"q1": {"d1": 1, "d2": 0}}
    with pytest.raises(InputError, match=r":2: relevance grade 'x' is not a number"):
        read_qrels(write(tmp_path / "b.tsv", "q1\td1\t1\nq1\td2\tx\n"))


def test_qrels_unknown_ids_warn_and_count(tmp_path, caplog):
    path = write(tmp_path / "q.tsv", "q1\td1\t1\nq1\tzz\t1\nq9\td1\t1\n")
    qrels = read_qrels(path, queries={"q1": "x"}, corpus={"d1": None})
    assert qrels == {"q1": {"d1": 1, "zz": 1}}
    assert "1 judgment(s) name unknown queries (dropped)" in caplog.text
    assert "1 judgment(s) name documents not in the corpus (kept)" in caplog.text
