"""The embedding student: least-squares start, length-grouped batches, training towards a teacher."""

from __future__ import annotations

import numpy as np

from pseudorel.training.embedding_student import (
    EmbeddingStudentSettings,
    least_squares_projection,
    train_embedding_student,
)
from pseudorel.training.length_batches import LengthGroupedBatchSampler


def test_least_squares_projection_recovers_a_linear_map():
    rng = np.random.default_rng(0)
    source = rng.normal(size=(200, 8))
    true_w, true_b = rng.normal(size=(5, 8)), rng.normal(size=5)
    weight, bias = least_squares_projection(source, source @ true_w.T + true_b, ridge=1e-8)
    assert np.allclose(weight, true_w, atol=1e-4) and np.allclose(bias, true_b, atol=1e-4)


def test_length_grouped_batches_cover_every_text_once_and_reshuffle_each_epoch():
    from datasets import Dataset

    texts = ["x" * n for n in np.random.default_rng(1).integers(1, 500, size=50)]
    sampler = LengthGroupedBatchSampler(Dataset.from_dict({"text": texts}), batch_size=8, drop_last=False)
    first = list(sampler)
    assert sorted(i for batch in first for i in batch) == list(range(50)) and len(sampler) == 7
    for batch in first[:-1]:  # each batch spans a narrow band of lengths
        spread = max(len(texts[i]) for i in batch) - min(len(texts[i]) for i in batch)
        assert spread < 200
    sampler.set_epoch(1)
    assert list(sampler) != first and sorted(map(tuple, sampler)) == sorted(map(tuple, first))


def test_student_moves_towards_the_teacher_and_saves_a_plain_model(tmp_path, tiny_model_path, tiny_teacher_path):
    from sentence_transformers import SentenceTransformer

    texts = ["vitamin d and bones", "aspirin for heart disease", "smoking and lung cancer", "exercise and sleep"] * 6
    teacher = SentenceTransformer(str(tiny_teacher_path), device="cpu").encode(texts)
    settings = EmbeddingStudentSettings(epochs=3, batch_size=4, learning_rate=1e-3, bf16=False)
    train_embedding_student(str(tiny_model_path), texts, teacher, tmp_path / "student", settings, {"teacher": "t"})
    student = SentenceTransformer(str(tmp_path / "student"), device="cpu")
    out = student.encode(texts)
    assert out.shape == teacher.shape
    cosine = float(np.mean(np.sum(out * teacher, axis=1)))  # both normalised
    assert cosine > 0.9
