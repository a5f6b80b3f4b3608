"""``adapt`` in sampled mode on the fixture: the teacher labels a sample, a student imitates it."""

from __future__ import annotations

import json

import pytest

from pseudorel.adapt import AdaptSettings, adapt
from pseudorel.candidates.mining import MiningSettings
from pseudorel.data import load_beir
from pseudorel.labels.pipeline import LabelSettings
from pseudorel.queries import Query
from pseudorel.training.embedding_student import EmbeddingStudentSettings
from pseudorel.training.query_tower import QueryTowerSettings


@pytest.mark.parametrize("kind", ["query", "embedding"])
def test_adapt_sampled_trains_a_student_that_plain_sentence_transformers_loads(
    tmp_path, tiny_dataset_path, tiny_model_path, tiny_teacher_path, kind
):
    from sentence_transformers import SentenceTransformer

    ds = load_beir(tiny_dataset_path, splits=["test"])
    settings = AdaptSettings(
        base_model=str(tiny_model_path),
        labels=LabelSettings(
            retrievers=("bm25", f"dense:{tiny_model_path}", f"dense:{tiny_teacher_path}"),
            mining=MiningSettings(top=3, deep=1),
            teacher_pairs=60,
        ),
        query_tower=QueryTowerSettings(epochs=1, batch_size=4, eval_fraction=0.0),
        student_kind=kind,
        student=EmbeddingStudentSettings(epochs=1, batch_size=8, bf16=False),
    )
    unlabeled = [Query(q, t) for q, t in ds.queries.items()]
    out = tmp_path / "out"
    report = adapt(ds.corpus, out, unlabeled, _sampled(settings), evaluation=ds)
    assert report.teacher["mode"] == "sampled"
    assert report.teacher_pass["pairs"] <= 60 and report.label_stats["teacher_pass"] == report.teacher_pass
    assert report.refresh[0]["ran"] is False
    student = report.student
    assert student["documents"] > 0 and student["docs_per_second"] > 0
    # a plain sentence-transformers folder: the embedding student in the teacher's (48-d) space, the
    # query tower in the base model's (it shares the base model's corpus embeddings)
    model = SentenceTransformer(str(out / "student"), device="cpu")
    assert model.encode_query(["vitamin d"]).shape == (1, 48 if kind == "embedding" else 32)
    card = json.loads((out / "student" / "pseudorel.json").read_text())
    assert card["teacher"] == str(tiny_teacher_path) and student["kind"] == kind
    if kind == "embedding":
        assert card["distilled_texts"] == student["queries"] + student["documents"]
    else:
        assert card["architecture"].startswith("query tower") and card["training_queries"] > 0
    parts = [d["part"] for d in report.system.decisions]
    assert "student" in parts and "teacher models" not in parts
    assert "late teacher" in parts  # the expensive teacher at search time, on the top 20 (the default)
    assert {"student", "hybrid_student", "hybrid_zero_shot"} <= set(report.evaluation)
    # the printed baseline is the one the guard started from: the hybrid fused as the teacher fuses
    shipped_hybrid = report.system.shipped == f"bm25 + dense:{tiny_model_path} (interpolate, weights 1/1)"
    if shipped_hybrid:
        assert report.evaluation["system"] == report.evaluation["hybrid_zero_shot"]


def _sampled(settings: AdaptSettings) -> AdaptSettings:
    from dataclasses import replace

    return replace(settings, labels=replace(settings.labels, teacher_mode="sampled"))
