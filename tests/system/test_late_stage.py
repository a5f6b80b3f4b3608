"""The late stage: an expensive dense model read at search time on the first stage's top documents."""

from __future__ import annotations

import json
import shutil

import pytest

from pseudorel.data import load_beir
from pseudorel.errors import InputError
from pseudorel.retrieval.bm25 import BM25Retriever
from pseudorel.retrieval.dense import DenseRetriever
from pseudorel.retrieval.fusion import fuse
from pseudorel.system import SearchSystem, SystemSpec
from pseudorel.system.select import select_system
from pseudorel.system.spec import FirstStage, LateStage


def _late_system(corpus, base, teacher, depth: int) -> SearchSystem:
    spec = SystemSpec(FirstStage((str(base),), "interpolate"), late=LateStage(str(teacher), depth))
    return SearchSystem(spec, corpus)


def test_with_the_whole_corpus_in_reach_it_ranks_as_the_full_teacher(
    tiny_dataset_path, tiny_model_path, tiny_teacher_path
):
    ds = load_beir(tiny_dataset_path, splits=[])
    run = _late_system(ds.corpus, tiny_model_path, tiny_teacher_path, len(ds.corpus)).search(ds.queries, 10)
    runs = [
        BM25Retriever(ds.corpus).search(ds.queries, 100),
        DenseRetriever(ds.corpus, str(tiny_model_path), progress=False).search(ds.queries, 100),
        DenseRetriever(ds.corpus, str(tiny_teacher_path), progress=False).search(ds.queries, 100),
    ]
    teacher = fuse(runs, "interpolate", top_k=10)
    assert {q: list(d) for q, d in run.items()} == {q: list(d) for q, d in teacher.items()}


def test_it_reads_only_each_querys_top_documents_and_each_once(tiny_dataset_path, tiny_model_path, tiny_teacher_path):
    ds = load_beir(tiny_dataset_path, splits=[])
    system = _late_system(ds.corpus, tiny_model_path, tiny_teacher_path, 2)
    first = system.first_stage(ds.queries, 100)
    tops = {d for docs in first.values() for d in sorted(docs, key=lambda d: (-docs[d], d))[:2]}
    assert len(tops) < len(ds.corpus)  # the fixture leaves documents the late stage must not read
    run = system.search(ds.queries, 10)
    assert system.late_stats["documents"] == len(tops) == system.late_stats["encoded"]
    assert system.search(ds.queries, 10) == run
    assert system.late_stats["encoded"] == len(tops)  # the second search read everything from the cache
    for qid, docs in run.items():  # the late model moves documents only within reach of its scores
        assert set(docs) <= set(first[qid]) | tops


def test_the_spec_round_trips_and_refuses_a_bad_late_stage(system_folder, tiny_teacher_path):
    spec = json.loads((system_folder / "system.json").read_text())
    spec["late"] = {"model": str(tiny_teacher_path), "depth": 5, "weight": 1.0}
    (system_folder / "system.json").write_text(json.dumps(spec))
    loaded = SystemSpec.load(system_folder)
    assert loaded.late == LateStage(str(tiny_teacher_path), 5, 1.0)
    assert "at search time" in loaded.describe() and str(tiny_teacher_path) in loaded.model_names()
    spec["late"]["depth"] = 0
    (system_folder / "system.json").write_text(json.dumps(spec))
    with pytest.raises(InputError, match="late needs a depth"):
        SystemSpec.load(system_folder)


@pytest.mark.parametrize("offered", [True, False])
def test_the_guard_offers_the_late_teacher_only_in_sampled_mode_when_asked(
    tmp_path, teacher_labels, tiny_model_path, tiny_teacher_path, offered
):
    corpus, labels = teacher_labels
    shutil.copytree(tiny_model_path, tmp_path / "sys" / "student")  # a student no better than the base model
    late = LateStage(str(tiny_teacher_path), 20) if offered else None
    spec, decisions = select_system(
        corpus,
        labels,
        sorted(labels["query_id"].unique()),
        tmp_path / "sys",
        str(tiny_model_path),
        student="student",
        sampled=True,
        teacher_fusion="interpolate",
        log=False,
        late=late,
    )
    parts = {d.part: d for d in decisions}
    if not offered:
        assert "late teacher" not in parts and spec.late is None
        return
    # it is the teacher's own fusion over the top 20: the full teacher's labels rank it first
    late_decision = parts["late teacher"]
    assert late_decision.kept and late_decision.score > late_decision.baseline_score
    assert spec.late == late and spec.first_stage == FirstStage((str(tiny_model_path),), "interpolate")
    assert parts["system"].kept and "at search time" in parts["system"].candidate


def test_a_live_index_reads_written_back_documents_with_the_shared_late_model(
    tmp_path, tiny_dataset_path, tiny_model_path, tiny_teacher_path
):
    from pseudorel.system.live import LiveIndex
    from pseudorel.system.written_log import WrittenLog

    ds = load_beir(tiny_dataset_path, splits=[])
    base = _late_system(ds.corpus, tiny_model_path, tiny_teacher_path, 3)
    text = "zebrafish fin regeneration after amputation in adult zebrafish"
    WrittenLog(tmp_path / "state").append({"op": "add", "id": "written-1", "title": "Zebrafish", "text": text})
    live = LiveIndex(base, tmp_path / "state")
    run = live.search({"q": "zebrafish fin regeneration"}, 3)
    assert "written-1" in run["q"]
    assert live.current.system.late_scorer("unused") is base.late_scorer("unused")  # loaded once
    assert live.current.system.late_stats["documents"] == 3
