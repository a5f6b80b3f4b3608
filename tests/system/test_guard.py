import pandas as pd
import pytest

from pseudorel.system.guard import (
    GuardSettings,
    decide,
    held_out_query_ids,
    pseudo_ndcg,
    pseudo_qrels,
    relevance_gains,
)
from pseudorel.system.select import select_system


def test_pseudo_ndcg_uses_labels_as_gains():
    qrels = {"q": {"a": 1.0, "b": 0.5, "c": 0.0}}
    assert pseudo_ndcg({"q": {"a": 3, "b": 2, "c": 1}}, qrels, k=3)["q"] == pytest.approx(1.0)
    worse = pseudo_ndcg({"q": {"c": 3, "b": 2, "a": 1}}, qrels, k=3)["q"]
    assert worse == pytest.approx((0.5 / 1.5849625 + 1 / 2) / (1 + 0.5 / 1.5849625))
    assert pseudo_ndcg({}, qrels)["q"] == 0.0


def test_held_out_queries_sample_real_and_synthetic_queries_separately():
    rows = [(f"r{i}", "log") for i in range(40)] + [(f"s{i}", "title") for i in range(400)]
    labels = pd.DataFrame(rows, columns=["query_id", "query_source"])
    held = held_out_query_ids(labels, GuardSettings(fraction=0.1, max_queries=20))
    assert sum(q.startswith("r") for q in held) == 4 and len(held) == 20
    assert held == held_out_query_ids(labels, GuardSettings(fraction=0.1, max_queries=20))


def test_decide_needs_a_significant_gain():
    base = {str(i): 0.5 for i in range(30)}
    assert decide("part", "new", {q: 0.9 for q in base}, "old", base, 0.05).kept
    assert not decide("part", "new", {q: 0.4 for q in base}, "old", base, 0.05).kept
    noisy = {q: 0.5 + (0.01 if int(q) % 2 else -0.009) for q in base}  # a hair better on average
    decision = decide("part", "new", noisy, "old", base, 0.05)
    assert not decision.kept and "not significantly better" in decision.reason


@pytest.mark.fault(
    "a reranker worse than its first stage",
    "dropped by the guard, the reason recorded; never below the zero-shot hybrid",
)
@pytest.mark.parametrize("quality", ["reversed", "oracle"])
def test_guard_drops_a_reranker_made_worse_on_purpose(monkeypatch, labelled, tmp_path, tiny_model_path, quality):
    corpus, labels = labelled
    values = relevance_gains(labels)
    gains = {(q, d): g for q, d, g in zip(labels["query_id"], labels["doc_id"], values, strict=True)}

    def fake_scores(run, queries, corpus, model, depth=100, progress=True):
        sign = -1.0 if quality == "reversed" else 1.0
        return {q: {d: sign * gains.get((q, d), 0.0) for d in docs} for q, docs in run.items()}

    monkeypatch.setattr("pseudorel.system.select.cross_encoder_scores", fake_scores)
    monkeypatch.setattr("pseudorel.system.search.cross_encoder_scores", fake_scores)
    held = sorted(labels["query_id"].unique())
    spec, decisions = select_system(
        corpus, labels, held, tmp_path, str(tiny_model_path), None, "reranker", GuardSettings(fraction=1.0)
    )
    reranker = next(d for d in decisions if d.part == "reranker")
    if quality == "reversed":
        assert not reranker.kept and "not better" in reranker.reason and spec.reranker is None
        assert spec.first_stage.dense == (str(tiny_model_path),)  # never below the zero-shot hybrid
    else:  # an oracle of the teacher's labels: kept, and the system record says so
        assert reranker.kept and spec.reranker is not None and spec.reranker.model == "reranker"
        assert spec.decisions[-1]["part"] == "system" and spec.decisions[-1]["kept"]


def test_gains_leave_out_the_source_document_shortcut(labelled):
    """A synthetic query's source document is not credited for being its source (that rewards
    lexical copying); the reading teachers' judgment of it counts as for any other document."""
    _, labels = labelled
    source = labels[labels["is_source_doc"].astype(bool)].iloc[0]
    gains = pseudo_qrels(labels, [source["query_id"]])[source["query_id"]]
    assert gains[source["doc_id"]] == pytest.approx(source["prob_fusion"])
    assert source["label"] > source["prob_fusion"]  # the training label does credit it
