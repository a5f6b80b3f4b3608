"""Bi-encoder and cross-encoder students trained on pseudo-labels of the tiny fixture."""

import json
import shutil
from dataclasses import replace

import numpy as np
import pytest
from sentence_transformers import CrossEncoder, SentenceTransformer
from transformers import TrainerCallback

from pseudorel.training.bi_encoder import TrainSettings, train_bi_encoder
from pseudorel.training.cross_encoder import CrossTrainSettings, train_cross_encoder
from pseudorel.training.examples import ExampleSettings, balanced_pairs, build_examples, teacher_lists


def test_examples_follow_thresholds(labelled):
    corpus, frame = labelled
    examples = build_examples(
        frame, corpus, ExampleSettings(negatives=2, positive_threshold=0.5, negative_threshold=0.3)
    )
    assert len(examples) > 5
    for docs, labels in zip(examples.docs, examples.labels, strict=True):
        assert len(docs) == 3 and labels[0] >= 0.5 and all(v < 0.3 for v in labels[1:])
    ds = examples.to_dataset("soft")
    assert ds.column_names == ["query", "positive", "negative_1", "negative_2", "label"]


def test_rank_positives_take_each_querys_best_candidate_however_low(labelled):
    corpus, frame = labelled
    low = frame.assign(label=frame["label"] * 0.25)  # a teacher that orders well but is never confident
    assert build_examples(low, corpus, ExampleSettings(negatives=1)).queries == []
    by_rank = build_examples(low, corpus, ExampleSettings(negatives=1, positive_threshold=None))
    with_a_negative = (low.dropna(subset=["label"]).groupby("query_id").size() >= 2).sum()
    assert len(by_rank) == with_a_negative > 5  # every query that has a candidate left to be its negative
    best = low.groupby("query_id")["label"].max()
    for query_id, labels in zip(by_rank.query_ids, by_rank.labels, strict=True):
        assert labels[0] == pytest.approx(best[query_id]) and labels[1] < 0.3


def test_balanced_pairs_keep_one_positive_per_group(labelled):
    _, frame = labelled
    settings = ExampleSettings(negatives=2, positive_threshold=0.5, negative_threshold=0.3)
    pairs = balanced_pairs(frame, settings)
    positives = pairs[pairs["label"] >= 0.5]
    assert len(positives) == len(build_examples(frame, labelled[0], settings)) > 5
    assert len(pairs) == 3 * len(positives)  # 1 positive : 2 hard negatives, not the table's base rate
    assert (pairs.groupby("query_id")["label"].max() >= 0.5).all()
    small = balanced_pairs(frame, settings, max_pairs=7)
    assert len(small) == 6 and small.groupby("query_id").size().eq(3).all()  # whole queries only


@pytest.mark.parametrize("loss", ["infonce", "bixse", "label_weakening"])
def test_bi_encoder_trains_and_saves_in_st_format(labelled, tiny_model_path, tmp_path, loss):
    corpus, frame = labelled
    examples = build_examples(frame, corpus, ExampleSettings(negatives=1))
    settings = TrainSettings(loss=loss, epochs=2, batch_size=4, eval_fraction=0.0, bf16=False)
    out = tmp_path / "student"
    train_bi_encoder(str(tiny_model_path), examples, out, settings, card={"teacher": "rank fusion"})
    reloaded = SentenceTransformer(str(out), device="cpu")
    assert reloaded.encode(["vitamin d"]).shape == (1, 32)
    card = json.loads((out / "pseudorel.json").read_text())
    assert card["teacher"] == "rank fusion" and card["training"]["loss"] == loss
    assert "Trained by pseudorel" in (out / "README.md").read_text()
    assert not (out / "checkpoints").exists()


@pytest.mark.fault("shipped model weights and their files", "written with the umask's mode (0644), not 0600")
def test_saved_model_files_get_the_usual_mode(labelled, tiny_model_path, tmp_path):
    import os

    corpus, frame = labelled
    examples = build_examples(frame, corpus, ExampleSettings(negatives=1))
    settings = TrainSettings(epochs=1, batch_size=4, eval_fraction=0.0, bf16=False)
    before = os.umask(0o022)
    try:
        train_bi_encoder(str(tiny_model_path), examples, tmp_path / "student", settings)
    finally:
        os.umask(before)
    modes = {p.name: p.stat().st_mode & 0o777 for p in (tmp_path / "student").rglob("*") if p.is_file()}
    assert "model.safetensors" in modes and set(modes.values()) == {0o644}, modes


@pytest.mark.fault(
    "training interrupted, also while a checkpoint was being written",
    "the half-written checkpoint is removed; the run resumes from the last complete one",
)
@pytest.mark.parametrize("half_written", [False, True])
def test_interrupted_training_resumes_from_checkpoint(labelled, tiny_model_path, tmp_path, monkeypatch, half_written):
    corpus, frame = labelled
    examples = build_examples(frame, corpus, ExampleSettings(negatives=1))
    settings = TrainSettings(epochs=4, batch_size=4, eval_fraction=0.0, eval_steps=2, bf16=False)
    out = tmp_path / "student"
    seen_steps = []

    class Interrupt(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            seen_steps.append(state.global_step)
            if state.global_step == 5 and len(seen_steps) == 5:
                raise KeyboardInterrupt

    import sentence_transformers

    real_trainer = sentence_transformers.SentenceTransformerTrainer

    class Spy(real_trainer):
        def __init__(self, *args, callbacks=None, **kwargs):
            super().__init__(*args, callbacks=[*(callbacks or []), Interrupt()], **kwargs)

    monkeypatch.setattr(sentence_transformers, "SentenceTransformerTrainer", Spy)
    with pytest.raises(KeyboardInterrupt):
        train_bi_encoder(str(tiny_model_path), examples, out, settings)
    assert (out / "checkpoints" / "checkpoint-4").is_dir() and not (out / "pseudorel.json").exists()
    before = json.loads((out / "checkpoints" / "checkpoint-4" / "pseudorel_elapsed.json").read_text())["seconds"]
    if half_written:  # a kill while checkpoint 6 was being written: weights there, trainer state not yet
        partial = out / "checkpoints" / "checkpoint-6"
        shutil.copytree(out / "checkpoints" / "checkpoint-4", partial)
        (partial / "trainer_state.json").unlink()
    train_bi_encoder(str(tiny_model_path), examples, out, settings)
    assert seen_steps[5] == 5  # the second run started after checkpoint 4, not from step 1
    card = json.loads((out / "pseudorel.json").read_text())
    assert card["train_seconds"] > before > 0  # the card counts the interrupted part too


@pytest.mark.parametrize("loss", ["listwise", "bce", "distill"])
def test_cross_encoder_student(labelled, tiny_model_path, tmp_path, loss):
    corpus, frame = labelled
    out = tmp_path / "reranker"
    settings = CrossTrainSettings(batch_size=4, bf16=False, loss=loss, negatives=2)
    train_cross_encoder(str(tiny_model_path), frame, corpus, out, settings)
    reranker = CrossEncoder(str(out), device="cpu")
    scores = reranker.predict([("vitamin d bones", "Vitamin D deficiency weakens bones")])
    assert scores.shape == (1,)
    expected = {
        "listwise": len(build_examples(frame, corpus, ExampleSettings(negatives=2))),
        "bce": int(frame["label"].notna().sum()),
        "distill": frame.dropna(subset=["label"])["query_id"].nunique(),  # one list per query
    }[loss]
    assert json.loads((out / "pseudorel.json").read_text())["examples"] == expected


def test_teacher_lists_hold_each_querys_source_and_top_candidates(labelled):
    _, frame = labelled
    lists = teacher_lists(frame, list_size=3)
    assert lists.groupby("query_id").size().le(3).all() and lists["query_id"].nunique() > 5
    for qid, group in lists.groupby("query_id"):
        rows = frame[frame["query_id"] == qid]
        if rows["is_source_doc"].any():
            assert group["is_source_doc"].any()
        others = group[~group["is_source_doc"].astype(bool)]
        assert set(others["fused_rank"]) == set(
            rows[~rows["is_source_doc"].astype(bool)].nsmallest(len(others), "fused_rank")["fused_rank"]
        )
    small = teacher_lists(frame, list_size=3, max_pairs=7)
    assert small["query_id"].nunique() == 2  # whole lists only


def test_distilled_reranker_follows_the_teachers_order(labelled, tiny_model_path, tmp_path):
    """Trained long enough on one query's list, the student orders it as the teacher does."""
    corpus, frame = labelled
    one = teacher_lists(frame, list_size=4)
    qid = one["query_id"].iloc[0]
    rows = one[one["query_id"] == qid].assign(label=[0.9, 0.5, 0.1, 0.01][: (one["query_id"] == qid).sum()])
    settings = CrossTrainSettings(batch_size=1, bf16=False, loss="distill", epochs=60, learning_rate=1e-3)
    train_cross_encoder(str(tiny_model_path), rows, corpus, tmp_path / "ce", settings)
    scores = CrossEncoder(str(tmp_path / "ce"), device="cpu").predict(
        [(rows["query_text"].iat[0], corpus[d].full_text) for d in rows["doc_id"]]
    )
    assert list(np.argsort(-scores)) == list(range(len(rows)))


def test_cross_encoder_rejects_unknown_loss(labelled, tiny_model_path, tmp_path):
    corpus, frame = labelled
    with pytest.raises(ValueError, match="unknown cross-encoder loss"):
        train_cross_encoder(str(tiny_model_path), frame, corpus, tmp_path / "r", CrossTrainSettings(loss="hinge"))


def test_cross_encoder_head_learns_faster(tiny_model_path):
    from pseudorel.training.cross_encoder import _optimizer

    model = CrossEncoder(str(tiny_model_path), num_labels=1, device="cpu")
    optimizer = _optimizer(model, CrossTrainSettings(learning_rate=1e-5, head_learning_rate=1e-3))
    body, head = optimizer.param_groups
    head_ids = {id(p) for p in head["params"]}
    assert head["lr"] == 1e-3 and body["lr"] == 1e-5
    assert id(model.model.classifier.weight) in head_ids
    assert all(id(p) not in head_ids for p in model.model.bert.encoder.parameters())
    assert len(body["params"]) + len(head["params"]) == len(list(model.model.parameters()))


def test_time_limit_stops_both_students_after_one_step(labelled, tiny_model_path, tmp_path):
    corpus, frame = labelled
    examples = build_examples(frame, corpus, ExampleSettings(negatives=1))
    # with held-out pseudo-labels, so the stopped step is also evaluated and the best checkpoint loaded
    settings = TrainSettings(epochs=3, batch_size=4, eval_fraction=0.2, bf16=False, time_limit_s=0.0)
    train_bi_encoder(str(tiny_model_path), examples, tmp_path / "bi", settings)
    card = json.loads((tmp_path / "bi" / "pseudorel.json").read_text())
    assert card["steps_done"] == 1 < card["steps"] and card["stopped_by_time_limit"]
    assert 0.0 <= card["best_held_out_metric"] <= 1.0  # the stopped step was evaluated
    assert 0.0 <= card["held_out_metric_at_start"] <= 1.0  # and so was the untrained model
    assert SentenceTransformer(str(tmp_path / "bi"), device="cpu").encode(["x"]).shape == (1, 32)

    cross = CrossTrainSettings(epochs=3, batch_size=4, bf16=False, negatives=2, time_limit_s=0.0)
    train_cross_encoder(str(tiny_model_path), frame, corpus, tmp_path / "ce", cross)
    card = json.loads((tmp_path / "ce" / "pseudorel.json").read_text())
    assert card["steps_done"] == 1 < card["steps"] and card["stopped_by_time_limit"]

    unlimited = replace(settings, time_limit_s=None, epochs=1)
    train_bi_encoder(str(tiny_model_path), examples, tmp_path / "full", unlimited)
    card = json.loads((tmp_path / "full" / "pseudorel.json").read_text())
    assert card["steps_done"] == card["steps"] and not card["stopped_by_time_limit"]
