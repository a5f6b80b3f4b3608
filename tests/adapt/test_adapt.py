"""A full ``adapt`` on the fixture corpus: tiny random models, a stub LLM judge, under a minute."""

import json
import logging
import time

import pytest

from pseudorel.adapt import AdaptSettings, adapt
from pseudorel.data import load_beir
from pseudorel.labels.pipeline import LabelSettings
from pseudorel.llm import CachedBackend, OpenAIChatBackend, ResponseCache
from pseudorel.queries import Query
from pseudorel.system import SearchSystem
from pseudorel.training.bi_encoder import TrainSettings
from pseudorel.training.cross_encoder import CrossTrainSettings
from pseudorel.training.document_tower import DocumentTowerSettings
from pseudorel.training.examples import ExampleSettings
from pseudorel.training.query_tower import QueryTowerSettings
from tests.llm import stub_server


def test_adapt_end_to_end(tmp_path, tiny_dataset_path, tiny_model_path, caplog):
    caplog.set_level(logging.INFO, logger="pseudorel")
    server, state, url = stub_server.start()
    try:
        start = time.perf_counter()
        ds = load_beir(tiny_dataset_path, splits=["test"])
        unlabeled = [Query(q, t) for q, t in ds.queries.items()]
        settings = AdaptSettings(
            base_model=str(tiny_model_path),
            llm_query_docs=2,
            labels=LabelSettings(retrievers=("bm25", f"dense:{tiny_model_path}"), llm_budget=5),
            # random tiny models give near-constant labels: take each query's best candidate
            examples=ExampleSettings(negatives=1, positive_threshold=0.0, negative_threshold=1.0),
            query_tower=QueryTowerSettings(epochs=1, batch_size=4, eval_fraction=0.0),
            reranker=CrossTrainSettings(batch_size=8, bf16=False),
            chain=True,
        )
        backend = CachedBackend(OpenAIChatBackend(url, "stub"), ResponseCache(tmp_path / "llm.sqlite"))
        report = adapt(ds.corpus, tmp_path / "out", unlabeled, settings, backend=backend, evaluation=ds)
        elapsed = time.perf_counter() - start

        out = tmp_path / "out"
        for path in ("queries.jsonl", "labels.parquet", "labels_chain.parquet", "report.json"):
            assert (out / path).is_file(), path
        assert (out / "retriever" / "modules.json").is_file() and (out / "reranker" / "config.json").is_file()
        assert report.queries == {"unlabeled": 5, "synthetic": 22, "llm": 2}
        assert report.teacher == {
            "retrievers": ["bm25", f"dense:{tiny_model_path}"],
            "reason": "as requested",
            "mode": "full",  # no expensive teacher: nothing to sample
            "estimates": {},
        }
        # the plan, with an estimate from this machine, is said before the long stage; the report
        # keeps it beside the pass as it ran
        lines = [r.getMessage() for r in caplog.records]
        plan = next(i for i, line in enumerate(lines) if line.startswith(f"plan: {tiny_model_path}:"))
        assert f"{len(ds.corpus)} documents at" in lines[plan] and "about" in lines[plan]
        assert plan < next(i for i, line in enumerate(lines) if line.startswith("stage labels done"))
        step = report.corpus_passes[str(tiny_model_path)]
        assert step["documents"] == len(ds.corpus) and step["docs_per_second"] > 0
        assert step["encoded"] == len(ds.corpus) and step["backend"] == "torch-fp32"
        assert step["actual_s"] >= 0 and "error" in step
        assert (
            report.label_stats["llm"]["judged"] == 5 and len(state.requests) == 2 + 1 + 5
        )  # written + server check + judged
        assert set(report.evaluation) == {
            *("zero_shot", "retriever", "bm25", "bm25+reranker"),
            *("hybrid_zero_shot", "hybrid_retriever", "system"),
        }
        # the output folder is a system folder; the guard judged every part on held-out queries
        assert (out / "system.json").is_file() and (out / "corpus.jsonl").is_file()
        parts = [d["part"] for d in report.system.decisions]
        assert parts[:4] == ["teacher fusion", "dense tower", "fusion", "reranker"]  # the teacher interpolates
        assert report.held_out_queries >= 3
        shipped = SearchSystem.load(out)
        assert shipped.spec.describe() == report.system.shipped
        assert set(report.system.dropped) == {d["part"] for d in report.system.decisions if not d["kept"]}
        card = json.loads((out / "retriever" / "pseudorel.json").read_text())
        assert card["teacher"] == "cross-encoder student" and card["architecture"].startswith("query tower")
        assert elapsed < 60

        again = adapt(ds.corpus, out, unlabeled, settings, backend=backend, evaluation=ds)  # all stages cached
        assert len(state.requests) == 8
        assert again.seconds["retriever"] < 5
    finally:
        server.shutdown()


@pytest.mark.parametrize("tower", ["query", "query+document", "both"])
def test_adapt_time_budget_limits_both_students(tmp_path, tiny_dataset_path, tiny_model_path, tower):
    ds = load_beir(tiny_dataset_path, splits=[])
    settings = AdaptSettings(
        base_model=str(tiny_model_path),
        retriever_tower=tower,
        query_tower=QueryTowerSettings(epochs=3, batch_size=4, eval_fraction=0.0),
        document_tower=DocumentTowerSettings(epochs=3, batch_size=4, eval_fraction=0.0, min_mass=0.0),
        labels=LabelSettings(retrievers=("bm25",)),
        examples=ExampleSettings(negatives=1, positive_threshold=0.0, negative_threshold=1.0),
        retriever=TrainSettings(epochs=3, batch_size=4, bf16=False, eval_fraction=0.0),
        reranker=CrossTrainSettings(epochs=3, batch_size=4, bf16=False, negatives=1),
        reranker_only_with_reader=False,
        time_budget_s=1e-3,  # already spent when training starts: each student stops after one step
    )
    out = tmp_path / "out"
    adapt(ds.corpus, out, [Query(q, t) for q, t in ds.queries.items()], settings)
    students = {"retriever": "", "reranker": ""}
    if tower == "query+document":  # the retriever's card records its document stage; its query stage has its own
        students = {"query_tower": "", "retriever": "document_", "reranker": ""}
    for student, prefix in students.items():
        card = json.loads((out / student / "pseudorel.json").read_text())
        assert card[f"{prefix}stopped_by_time_limit"], student
        assert card[f"{prefix}steps_done"] == 1 < card[f"{prefix}steps"], student


def test_adapt_rejects_an_unknown_tower(tmp_path, tiny_dataset_path):
    ds = load_beir(tiny_dataset_path, splits=[])
    with pytest.raises(ValueError, match="retriever_tower"):
        adapt(ds.corpus, tmp_path / "out", None, AdaptSettings(retriever_tower="document"))
    assert not (tmp_path / "out").exists()
