"""Refresh rounds: the retriever joins the teacher only when the guard keeps it, and each new
round's retriever is offered to the guard in place of the one before."""

from __future__ import annotations

import json

import pytest

from pseudorel.adapt import AdaptSettings, adapt, refresh
from pseudorel.data import load_beir
from pseudorel.labels.pipeline import LabelSettings
from pseudorel.labels.store import load_labels
from pseudorel.queries import Query
from pseudorel.system import select as select_module
from pseudorel.system.guard import Decision
from pseudorel.training.examples import ExampleSettings
from pseudorel.training.query_tower import QueryTowerSettings


def _settings(tiny_model_path) -> AdaptSettings:
    return AdaptSettings(
        base_model=str(tiny_model_path),
        labels=LabelSettings(retrievers=("bm25", f"dense:{tiny_model_path}")),
        examples=ExampleSettings(negatives=1, positive_threshold=0.0, negative_threshold=1.0),
        query_tower=QueryTowerSettings(epochs=1, batch_size=4, eval_fraction=0.0),
        reranker=None,
        refresh_rounds=1,
    )


@pytest.fixture
def tiny(tiny_dataset_path):
    ds = load_beir(tiny_dataset_path, splits=[])
    return ds.corpus, [Query(q, t) for q, t in ds.queries.items()]


def test_a_round_runs_when_the_guard_keeps_the_retriever(tmp_path, tiny, tiny_model_path, monkeypatch):
    monkeypatch.setattr(refresh, "tower_kept", lambda *a: (True, "kept (forced by the test)"))
    corpus, queries = tiny
    out = tmp_path / "out"
    report = adapt(corpus, out, queries, _settings(tiny_model_path))
    assert report.refresh[0]["ran"] and report.refresh[0]["retriever"] == "round2/retriever"
    assert (out / "round2" / "retriever" / "modules.json").is_file()
    relabelled = load_labels(out / "round2" / "labels.parquet")
    assert any(str(out / "retriever") in c for c in relabelled.columns if c.startswith("rank_"))  # it joined
    card = json.loads((out / "round2" / "retriever" / "pseudorel.json").read_text())
    assert card["teacher"].startswith("round 2")
    stages = json.loads((out / "stages.json").read_text())
    again = adapt(corpus, out, queries, _settings(tiny_model_path))  # the round's labels are reused
    assert json.loads((out / "stages.json").read_text())["labels round 2"] == stages["labels round 2"]
    assert again.refresh == report.refresh


def test_no_round_when_the_guard_drops_the_retriever(tmp_path, tiny, tiny_model_path, monkeypatch):
    monkeypatch.setattr(refresh, "tower_kept", lambda *a: (False, "not better, dropped"))
    corpus, queries = tiny
    report = adapt(corpus, tmp_path / "out", queries, _settings(tiny_model_path))
    assert report.refresh == [
        {"round": 2, "ran": False, "reason": "round 1's retriever was not kept: not better, dropped"}
    ]
    assert not (tmp_path / "out" / "round2").exists()


@pytest.mark.parametrize("keep_round_one", [True, False])
def test_the_guard_offers_each_round_in_place_of_the_last(
    system_folder, tiny_model_path, labelled, monkeypatch, keep_round_one
):
    import shutil

    corpus, labels = labelled
    shutil.copytree(system_folder / "retriever", system_folder / "round2" / "retriever")

    def decide(part, candidate, scores, baseline, base, alpha):
        kept = part != "dense tower" or keep_round_one
        return Decision(part, candidate, baseline, 1.0, 0.0, 0.0 if kept else 1.0, kept, "test")

    monkeypatch.setattr(select_module, "decide", decide)
    held_out = sorted(labels["query_id"].unique())[:5]
    spec, decisions = select_module.select_system(
        corpus, labels, held_out, system_folder, str(tiny_model_path), ("retriever", "round2/retriever")
    )
    parts = [d.part for d in decisions]
    if keep_round_one:
        assert parts[:2] == ["dense tower", "refresh round 2"] and "round2/retriever" in spec.first_stage.dense
    else:
        assert "refresh round 2" not in parts and "round2/retriever" not in spec.first_stage.dense


def test_no_reranker_without_a_teacher_that_reads(tmp_path, tiny, tiny_model_path):
    """Labels from rank fusion alone cannot judge a reranker: it is not trained, and the report says why."""
    from dataclasses import replace

    from pseudorel.training.cross_encoder import CrossTrainSettings

    corpus, queries = tiny
    settings = replace(_settings(tiny_model_path), reranker=CrossTrainSettings(bf16=False), refresh_rounds=0)
    report = adapt(corpus, tmp_path / "out", queries, settings)
    assert "no teacher that reads the documents" in report.reranker_skipped
    assert not (tmp_path / "out" / "reranker").exists()
    assert "reranker" not in [d["part"] for d in report.system.decisions]
    assert "Reranker not trained" in (tmp_path / "out" / "report.html").read_text()
