"""Every input is read strictly: no silent data loss, no library tracebacks."""

import logging

import pytest

from pseudorel.data.readers import read_corpus, read_qrels, read_queries
from pseudorel.errors import InputError
from pseudorel.queries import read_query_file


@pytest.mark.fault("TSV field with an unclosed quote", "read literally; no following line is swallowed")
def test_tsv_stray_quote_does_not_swallow_lines(tmp_path):
    queries = tmp_path / "q.tsv"
    queries.write_text('q1\t"what lowers\nq2\tblood pressure\nq3\tcoffee\n')
    assert read_queries(queries) == {"q1": '"what lowers', "q2": "blood pressure", "q3": "coffee"}
    corpus = tmp_path / "c.tsv"
    corpus.write_text('id\ttitle\ttext\nd1\t"A\tone\nd2\tB\ttwo\nd3\tC\tthree\nd4\tD\tfour\n')
    assert len(read_corpus(corpus)) == 4


@pytest.mark.fault("a field over 131,072 characters", "read whole; no csv traceback")
def test_very_long_field_is_read(tmp_path):
    corpus = tmp_path / "c.tsv"
    corpus.write_text("d1\t" + "word " * 40_000 + "\nd2\tshort\n")
    assert len(read_corpus(corpus)["d1"].text) == 200_000


@pytest.mark.fault("CSV row with a broken quote", "error naming the file and line")
def test_broken_csv_row_names_the_line(tmp_path):
    corpus = tmp_path / "c.csv"
    corpus.write_text('id,text\nd1,"fine"\nd2,"bad"x"\n')
    with pytest.raises(InputError, match=r"c\.csv:3"):
        read_corpus(corpus)


@pytest.mark.fault("duplicate query ids in a JSONL queries file", "error naming the line and the first occurrence")
def test_duplicate_ids_in_a_jsonl_queries_file(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"_id": "q1", "text": "a"}\n{"_id": "q1", "text": "b"}\n')
    with pytest.raises(InputError, match=r"q\.jsonl:2: duplicate query id 'q1' \(first on line 1\)"):
        read_query_file(path)
    with pytest.raises(InputError, match="duplicate query id 'q1'"):
        read_queries(path)


@pytest.mark.fault("qrels grade 0.9 or inf", "error naming the file and line")
@pytest.mark.parametrize(("grade", "message"), [("0.9", "not a whole number"), ("inf", "not a whole number")])
def test_qrels_grades_must_be_whole_numbers(tmp_path, grade, message):
    path = tmp_path / "qrels.tsv"
    path.write_text(f"query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td2\t{grade}\n")
    with pytest.raises(InputError, match=rf"qrels\.tsv:3: relevance grade '{grade}' is {message}"):
        read_qrels(path)
    path.write_text("q1 0 d1 2.0\n")
    assert read_qrels(path) == {"q1": {"d1": 2}}


@pytest.mark.fault("the same pair judged twice with different grades", "warning with the count; the last kept")
def test_conflicting_duplicate_judgments_warn_with_counts(tmp_path, caplog):
    path = tmp_path / "qrels.tsv"
    path.write_text("q1 0 d1 1\nq1 0 d1 2\nq1 0 d2 1\nq1 0 d2 1\n")
    with caplog.at_level(logging.WARNING, logger="pseudorel"):
        assert read_qrels(path) == {"q1": {"d1": 2, "d2": 1}}
    assert "1 (query, document) pair(s) judged twice with different grades" in caplog.text


@pytest.mark.fault("document id with a space", "error naming the line: TREC files cannot hold it")
def test_ids_with_white_space_are_rejected(tmp_path):
    path = tmp_path / "corpus.jsonl"
    path.write_text('{"_id": "d1", "text": "a"}\n{"_id": "doc 2", "text": "b"}\n')
    with pytest.raises(InputError, match=r"corpus\.jsonl:2: id 'doc 2' contains white space"):
        read_corpus(path)


@pytest.mark.fault("CSV field whose quote is never closed", "error naming the line instead of merged rows")
def test_unclosed_csv_quote_is_an_error_not_a_merged_row(tmp_path):
    corpus = tmp_path / "c.csv"
    corpus.write_text('id,text\nd1,"never closed\nd2,two\nd3,three\n')
    with pytest.raises(InputError, match=r"c\.csv:2: unreadable row"):
        read_corpus(corpus)
