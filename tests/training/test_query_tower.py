"""The query-tower student: trained against the frozen corpus index, saved as an asymmetric model."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
from sentence_transformers import SentenceTransformer

from pseudorel.retrieval.dense import DenseRetriever
from pseudorel.training.evaluators import PseudoLabelRankingEvaluator
from pseudorel.training.query_tower import QueryTowerSettings, query_targets, train_query_tower


def test_query_targets_normalise_labels_and_skip_queries_without_signal():
    frame = pd.DataFrame(
        {
            "query_id": ["a", "a", "a", "b", "b"],
            "query_text": ["qa"] * 3 + ["qb"] * 2,
            "doc_id": ["d1", "d2", "d3", "d1", "d2"],
            "label": [0.6, 0.2, np.nan, 0.0, 0.0],
        }
    )
    index = {"d1": 0, "d2": 1, "d3": 2}
    soft = query_targets(frame, index)
    assert soft.ids == ["a"] and soft.skipped == 1
    assert soft.rows[0][0] == [0, 1, 2] and soft.rows[0][1] == pytest.approx([0.75, 0.25, 0.0])
    assert query_targets(frame, index, "top").rows[0][1] == [1.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="unknown target"):
        query_targets(frame, index, "best")


def test_real_queries_are_flagged_and_oversampled_to_a_share_of_the_epoch():
    frame = pd.DataFrame(
        {
            "query_id": ["u", "s1", "s2", "s3", "s4"],
            "query_text": ["user", "t1", "t2", "t3", "t4"],
            "query_source": ["log", "title", "ict", "title", "ict"],
            "doc_id": ["d1"] * 5,
            "label": [1.0] * 5,
        }
    )
    targets = query_targets(frame, {"d1": 0})
    assert targets.real == [True, False, False, False, False]
    half = targets.oversample_real(0.5)
    assert half.ids.count("u") == 4 and len(half.ids) == 8 and sum(half.real) == 4
    assert targets.oversample_real(0.0).ids == targets.ids
    assert targets.subset([1, 2]).oversample_real(0.5).ids == ["s1", "s2"]  # no real queries: unchanged


class OneHot:
    """A stand-in model: query "i" embeds as the i-th unit vector of 3."""

    def encode(self, texts, **_):
        return torch.eye(3)[[int(t) for t in texts]]


ROWS = [([0, 1], [0.9, 0.1]), ([2], [1.0])]


def evaluate_one_hot(queries: list[str], **kwargs) -> tuple[PseudoLabelRankingEvaluator, dict]:
    evaluator = PseudoLabelRankingEvaluator(queries, ROWS, torch.eye(3), **kwargs)
    evaluator.store_metrics_in_model_card_data = lambda *a, **k: None
    return evaluator, evaluator(OneHot())


def test_pseudo_label_evaluator_likelihood_is_minus_the_held_out_loss():
    log_p = (2.0 * torch.eye(3)).log_softmax(dim=-1)  # each query's own document scores 2, the rest 0
    expected = ((0.9 * log_p[0, 0] + 0.1 * log_p[0, 1]) + log_p[2, 2]) / 2
    evaluator, metrics = evaluate_one_hot(["0", "2"], scale=2.0)
    assert evaluator.primary_metric == "pseudo_log_likelihood"
    assert metrics["pseudo_log_likelihood"] == pytest.approx(expected.item(), rel=1e-5)


def test_pseudo_label_evaluator_scores_a_perfect_ranking_one():
    assert evaluate_one_hot(["0", "2"], k=2)[1]["pseudo_ndcg@2"] == pytest.approx(1.0)
    # query 1 finds the 0.1 document (ideal 0.9); query 0 finds only row 2's padding, weight 0
    assert evaluate_one_hot(["1", "0"], k=1)[1]["pseudo_ndcg@1"] == pytest.approx((0.1 / 0.9 + 0.0) / 2)


def test_query_tower_trains_only_queries_and_saves_an_asymmetric_model(labelled, tiny_model_path, tmp_path):
    corpus, frame = labelled
    out = tmp_path / "retriever"
    settings = QueryTowerSettings(epochs=2, batch_size=4, eval_fraction=0.0, learning_rate=1e-3)
    train_query_tower(str(tiny_model_path), frame, corpus, out, settings, card={"teacher": "rank fusion"})
    model = SentenceTransformer(str(out), device="cpu")
    base = SentenceTransformer(str(tiny_model_path), device="cpu")
    text = ["vitamin d deficiency"]
    assert np.allclose(model.encode_document(text), base.encode(text), atol=1e-5)  # the index stays valid
    assert not np.allclose(model.encode_query(text), base.encode(text), atol=1e-3)  # the query tower moved
    card = json.loads((out / "pseudorel.json").read_text())
    assert card["teacher"] == "rank fusion" and card["steps_done"] == card["steps"] > 0
    assert not (out / "checkpoints").exists()
    run = DenseRetriever(corpus, model=str(out), progress=False).search({"q": text[0]}, top_k=3)
    assert len(run["q"]) == 3


def test_query_tower_keeps_the_base_when_training_does_not_beat_it(labelled, tiny_model_path, tmp_path):
    corpus, frame = labelled
    out = tmp_path / "retriever"
    # a learning rate this large wrecks the tower; held-out pseudo-labels must notice
    settings = QueryTowerSettings(epochs=1, batch_size=4, eval_fraction=0.3, learning_rate=5.0)
    train_query_tower(str(tiny_model_path), frame, corpus, out, settings)
    card = json.loads((out / "pseudorel.json").read_text())
    assert card["held_out_queries"] > 0 and card["held_out_metric_at_start"] is not None
    assert card["kept_untrained_query_tower"] and card["best_held_out_metric"] <= card["held_out_metric_at_start"]
    model = SentenceTransformer(str(out), device="cpu")
    base = SentenceTransformer(str(tiny_model_path), device="cpu")
    assert np.allclose(model.encode_query(["vitamin d"]), base.encode(["vitamin d"]), atol=1e-5)


def test_a_learning_rate_grid_keeps_the_run_best_on_held_out_pseudo_labels(labelled, tiny_model_path, tmp_path):
    corpus, frame = labelled
    out = tmp_path / "retriever"
    # 5.0 wrecks the tower (its run keeps the untrained one); 1e-3 must score at least as well
    settings = QueryTowerSettings(epochs=1, batch_size=4, eval_fraction=0.3, learning_rate_grid=(5.0, 1e-3))
    train_query_tower(str(tiny_model_path), frame, corpus, out, settings)
    card = json.loads((out / "pseudorel.json").read_text())
    scores = card["learning_rate_selection"]["held_out_pseudo_log_likelihood"]
    assert set(scores) == {"5", "0.001"}
    chosen = card["learning_rate_selection"]["chosen"]
    assert scores[f"{chosen:g}"] == max(scores.values()) and card["training"]["learning_rate"] == chosen
    assert not (out / "learning_rates").exists()
    assert SentenceTransformer(str(out), device="cpu").encode_query(["vitamin d"]).shape == (1, 32)


def test_word_dropout_trains_on_noisy_copies_in_as_many_steps(labelled, tiny_model_path, tmp_path):
    corpus, frame = labelled
    plain = QueryTowerSettings(epochs=3, batch_size=4, eval_fraction=0.0, learning_rate=1e-3)
    cards = {}
    for name, settings in (("plain", plain), ("noisy", QueryTowerSettings(**{**plain.__dict__, "word_dropout": 0.3}))):
        train_query_tower(str(tiny_model_path), frame, corpus, tmp_path / name, settings)
        cards[name] = json.loads((tmp_path / name / "pseudorel.json").read_text())
    assert cards["noisy"]["rows_per_epoch"] == 3 * cards["plain"]["rows_per_epoch"]  # queries + 2 noisy copies
    # the same passes over the queries: fewer steps only by the partial batches of the plain epochs
    assert cards["plain"]["steps"] - 3 < cards["noisy"]["steps"] <= cards["plain"]["steps"]
    assert cards["noisy"]["steps_done"] == cards["noisy"]["steps"]
    assert cards["noisy"]["training"]["word_dropout"] == 0.3
