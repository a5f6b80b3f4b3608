import numpy as np
import pandas as pd
import pytest

from pseudorel.data import load_beir
from pseudorel.labels import pipeline
from pseudorel.labels.pipeline import LabelSettings, label_pairs
from pseudorel.queries import Query
from pseudorel.teachers.registry import (
    PAIR,
    TEACHERS,
    PairTeacher,
    TeacherInfo,
    describe,
    readers,
    reads_pairs,
    register,
    teacher_columns,
    teacher_of,
)


def test_every_teacher_has_one_column_and_the_pair_readers_are_the_ones_that_read_text():
    assert {t.column for t in TEACHERS.values()} == {"prob_fusion", "prob_source", "prob_ce", "prob_llm", "prob_ql"}
    assert set(readers(PAIR)) == {"prob_ce", "prob_llm", "prob_ql"}
    assert not describe("source").judges_relevance and describe("fusion").judges_relevance
    assert describe("dense_nomic").column == "prob_dense_nomic"
    with pytest.raises(KeyError, match="no teacher named"):
        describe("oracle")


def test_label_tables_are_read_through_the_registry():
    labels = pd.DataFrame(columns=["query_id", "prob_fusion", "prob_cheap", "prob_source", "score_fusion", "label"])
    assert teacher_columns(labels) == ["prob_fusion", "prob_source"]
    assert [teacher_of(c) for c in teacher_columns(labels)] == ["fusion", "source"]
    assert not reads_pairs(labels) and reads_pairs(labels.assign(prob_ql=[]))


def test_a_name_registers_once():
    assert register(TEACHERS["ql"]) is TEACHERS["ql"]  # the same teacher again: fine
    with pytest.raises(ValueError, match="already registered"):
        register(TeacherInfo("ql", PAIR, "cheap", "another"))


class WordOverlap:
    """A pair teacher made up for the test: the share of the query's words the passage holds."""

    info = TeacherInfo("overlap", PAIR, "cheap", "words the query and the passage share")

    def score(self, queries, passages, progress=True, executor=None):
        pairs = zip(queries, passages, strict=True)
        return np.array([len(set(q.lower().split()) & set(p.lower().split())) / len(q.split()) for q, p in pairs])


def test_the_label_pipeline_loops_over_the_pair_teachers_it_is_given(tmp_path, tiny_dataset_path, monkeypatch):
    ds = load_beir(tiny_dataset_path, splits=[])
    queries = [Query(q, t) for q, t in ds.queries.items()]
    settings = LabelSettings(retrievers=("bm25",))
    without, _ = label_pairs(ds.corpus, queries, settings, tmp_path / "a", progress=False)
    teacher = WordOverlap()
    assert isinstance(teacher, PairTeacher)
    monkeypatch.setitem(TEACHERS, "overlap", teacher.info)
    monkeypatch.setattr(pipeline, "pair_teachers", lambda settings: [teacher])
    frame, _ = label_pairs(ds.corpus, queries, settings, tmp_path / "b", progress=False)
    passages = [ds.corpus[d].full_text for d in frame["doc_id"]]
    assert np.allclose(frame["score_overlap"], teacher.score(frame["query_text"].tolist(), passages))
    assert frame["prob_overlap"].between(0, 1).all()
    assert "prob_overlap" in teacher_columns(frame)
    assert not np.allclose(frame["prob_cheap"], without["prob_cheap"])  # it joins the combined label
