"""Sampled mode's guard: the student ships only when held-out labels of the full teacher say it wins."""

from __future__ import annotations

import shutil

from pseudorel.system.select import select_system


def _select(corpus, labels, folder, base_model, student_source):
    shutil.copytree(student_source, folder / "student")
    held_out = sorted(labels["query_id"].unique())  # no student trained on them here
    spec, decisions = select_system(
        corpus,
        labels,
        held_out,
        folder,
        str(base_model),
        student="student",
        sampled=True,
        teacher_fusion="interpolate",
        log=False,
    )
    return spec, {d.part: d for d in decisions}


def test_a_student_that_reproduces_the_teacher_ships(tmp_path, teacher_labels, tiny_model_path, tiny_teacher_path):
    corpus, labels = teacher_labels
    spec, decisions = _select(corpus, labels, tmp_path / "sys", tiny_model_path, tiny_teacher_path)
    student = decisions["student"]
    assert student.kept and student.score > student.baseline_score and student.p_value < 0.05
    assert "student" in spec.first_stage.dense and decisions["system"].kept
    # the student is judged against the best reweighting of the zero-shot hybrid (fused as the teacher
    # fuses), the whole system against the hybrid itself; the teacher is never offered
    assert "interpolate" in student.baseline and "student" not in student.baseline
    assert decisions["system"].baseline.endswith("(interpolate, weights 1/1)")
    assert str(tiny_teacher_path) not in spec.describe() and "teacher models" not in decisions


def _collapsed(source, folder):
    """``source`` with a projection that maps every text to one vector: a student whose
    distillation collapsed (a real failure mode of embedding distillation), made on purpose."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Dense, Normalize

    model = SentenceTransformer(str(source), device="cpu")
    dim = model.get_embedding_dimension()
    flat = Dense(
        dim, dim, activation_function=torch.nn.Identity(), init_weight=torch.zeros(dim, dim), init_bias=torch.ones(dim)
    )
    SentenceTransformer(modules=[*model.children(), flat, Normalize()], device="cpu").save(str(folder))
    return folder


def test_a_collapsed_student_is_dropped(tmp_path, teacher_labels, tiny_teacher_path, tiny_model_path):
    corpus, labels = teacher_labels
    collapsed = _collapsed(tiny_teacher_path, tmp_path / "collapsed")
    spec, decisions = _select(corpus, labels, tmp_path / "sys", tiny_model_path, collapsed)
    assert not decisions["student"].kept and "student" not in spec.first_stage.dense
    assert "student" not in spec.describe()
