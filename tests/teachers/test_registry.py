import pandas as pd
import pytest

from pseudorel.teachers.registry import (
    PAIR,
    TEACHERS,
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
