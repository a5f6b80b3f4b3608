"""bench/adapt.py's full fine-tuning experiments (both towers on triplets): the synthetic-query
budgets, the loss table, the supervised upper bound, the reranker, the distillation chain and
training throughput against plain sentence-transformers."""

from __future__ import annotations

import json
import random
import time
from dataclasses import replace

from _adapt_base import BASE, WORK
from _report import SHARED_DATA

from pseudorel.adapt import relabel_with_reranker, top_candidates
from pseudorel.data import load_beir
from pseudorel.evaluation import evaluate_run, paired_test
from pseudorel.queries import synthetic_queries
from pseudorel.retrieval.bm25 import BM25Retriever
from pseudorel.system.rerank import rerank_run
from pseudorel.training.bi_encoder import TrainSettings, train_bi_encoder
from pseudorel.training.cross_encoder import CrossTrainSettings, train_cross_encoder
from pseudorel.training.examples import ExampleSettings, balanced_pairs, build_examples

SYNTHETIC_DOCS = 300  # documents sampled for title + inverse-cloze queries
LARGE_DOCS = 2000  # the larger budget: ~4,000 synthetic queries, ~125 optimizer steps
MAX_UNLABELED = 800  # unlabeled queries used (nfcorpus has 2,590 train queries)
TRAIN = TrainSettings(epochs=1, batch_size=32, max_seq_length=256)
EXAMPLES = ExampleSettings(negatives=1)  # (query, positive, hard negative): training costs ~3x inference here
CHAIN_EXAMPLES = replace(EXAMPLES, positive_threshold=None)  # chain: the reranker's top candidate is the positive
RERANKER_PAIRS = ExampleSettings(negatives=3)  # reranker pairs: 1 confident positive : 3 hard negatives


class FineTuneExperiments:
    """Mixed into the bench with :class:`AdaptBench`."""

    def train_eval(
        self, name: str, key: str, frame, settings: TrainSettings, card: dict, examples_from=EXAMPLES
    ) -> dict:
        corpus_only, _ = self.dataset(name)
        start = time.perf_counter()
        examples = build_examples(frame, corpus_only.corpus, examples_from)
        out = WORK / name / key
        train_bi_encoder(BASE, examples, out, settings, card=card)
        # from the model card, so a rerun that finds the model already trained reports the real cost
        trained = json.loads((out / "pseudorel.json").read_text())
        seconds = trained.get("train_seconds") or time.perf_counter() - start
        result = {"examples": len(examples), "train_seconds": round(seconds, 1), **self.evaluate(name, str(out), key)}
        # the label-free selection signal: held-out pseudo-label triplet accuracy, untrained and best
        signal = ("held_out_metric_at_start", "best_held_out_metric")
        result["held_out_pseudo_accuracy"] = [trained.get(k) for k in signal]
        result["pairs_per_s"] = round(len(examples) * settings.epochs / seconds, 2)
        self.results.setdefault(name, {})[key] = result
        self.save()
        print(name, key, result["metrics"]["nDCG@10"], flush=True)
        return result

    def unlabeled(self, name: str, synthetic_docs: int = SYNTHETIC_DOCS) -> None:
        frame, label_seconds = self.unlabeled_frame(name, synthetic_docs)
        card = {
            "teacher": "calibrated rank fusion (BM25 + MiniLM)",
            "queries": f"train queries without qrels + synthetic from {synthetic_docs} docs",
        }
        key = "adapted_unlabeled_queries" + ("" if synthetic_docs == SYNTHETIC_DOCS else f"_{synthetic_docs}docs")
        result = self.train_eval(name, key, frame, TRAIN, card)
        result["label_seconds"] = round(label_seconds, 1)
        self.save()

    def synthetic_only(self, name: str, docs: int = 2 * SYNTHETIC_DOCS) -> None:
        corpus_only, _ = self.dataset(name)
        synthetic = synthetic_queries(corpus_only.corpus, ("title", "ict"), seed=0, max_docs=docs)
        tag = "synthetic" if docs == 2 * SYNTHETIC_DOCS else f"synthetic-{docs}"
        frame, label_seconds = self.labels(name, synthetic, tag)
        card = {"teacher": "calibrated rank fusion (BM25 + MiniLM)", "queries": f"synthetic only, {docs} docs"}
        key = "adapted_synthetic_only" + ("" if docs == 2 * SYNTHETIC_DOCS else f"_{docs}docs")
        result = self.train_eval(name, key, frame, TRAIN, card)
        result["label_seconds"] = round(label_seconds, 1)
        self.save()

    def losses(self, name: str) -> None:
        _, train = self.dataset(name)
        frame, _ = self.labels(name, train, "train-queries")
        for loss, kwargs in (
            ("infonce", {}),
            ("bixse", {}),
            ("margin_mse", {}),
            ("kl", {}),
            ("label_weakening", {}),
        ):
            settings = replace(TRAIN, loss=loss, loss_kwargs=kwargs)
            card = {"teacher": "calibrated rank fusion", "queries": "train queries without qrels"}
            self.train_eval(name, f"loss_{loss}", frame, settings, card)

    def supervised(self, name: str) -> None:
        _, train = self.dataset(name)
        frame, _ = self.labels(name, train, "train-queries")
        qrels = load_beir(SHARED_DATA / name, splits=["train"]).qrels["train"]  # SUPERVISED: gold train labels
        gold = frame.copy()
        gold["label"] = [float(qrels.get(q, {}).get(d, 0) > 0) for q, d in zip(gold.query_id, gold.doc_id, strict=True)]
        card = {"teacher": "SUPERVISED: human train qrels", "queries": "train queries"}
        self.train_eval(name, "supervised_train_qrels", gold, TRAIN, card)

    def unlabeled_frame(self, name: str, synthetic_docs: int = SYNTHETIC_DOCS):
        """Pseudo-labels of the train queries (read without qrels) plus synthetic queries."""
        corpus_only, train = self.dataset(name)
        if len(train) > MAX_UNLABELED:
            train = random.Random(0).sample(train, MAX_UNLABELED)
        synthetic = synthetic_queries(corpus_only.corpus, ("title", "ict"), seed=0, max_docs=synthetic_docs)
        tag = "unlabeled" if synthetic_docs == SYNTHETIC_DOCS else f"unlabeled-{synthetic_docs}"
        return self.labels(name, train + synthetic, tag)

    def train_reranker(self, name: str, budget: int):
        """A cross-encoder student on ``budget`` teacher-labelled pairs: confident positives + hard negatives."""
        corpus_only, _ = self.dataset(name)
        frame, _ = self.unlabeled_frame(name)
        pairs = balanced_pairs(frame, RERANKER_PAIRS, max_pairs=budget)
        out = WORK / name / f"reranker-{budget}"
        card = {
            "teacher": "calibrated rank fusion (BM25 + MiniLM)",
            "queries": "train queries without qrels + synthetic",
        }
        train_cross_encoder(BASE, pairs, corpus_only.corpus, out, CrossTrainSettings(), card=card)
        seconds = json.loads((out / "pseudorel.json").read_text())["train_seconds"]
        return out, len(pairs), seconds

    def reranker(self, name: str, budget: int = 4000) -> None:
        out, n_pairs, train_seconds = self.train_reranker(name, budget)
        test = self.test_set(name)
        queries = test.split_queries("test")
        bm25 = BM25Retriever(test.corpus).search(queries, 100)
        start = time.perf_counter()
        ev = evaluate_run(test.qrels["test"], rerank_run(bm25, queries, test.corpus, str(out)))
        self.runs[(name, "reranker_bm25_top100")] = ev.column("nDCG@10")
        self.results.setdefault(name, {})["reranker_bm25_top100"] = {
            "metrics": ev.aggregate,
            "train_pairs": n_pairs,
            "train_seconds": train_seconds,
            "rerank_seconds": round(time.perf_counter() - start, 1),
        }
        self.save()

    def chain(self, name: str, budgets: tuple[int, ...] = (1000, 4000)) -> None:
        """Teacher labels ``budget`` pairs -> cross-encoder student relabels every query's top
        candidates -> bi-encoder trained on the student's labels."""
        corpus_only, _ = self.dataset(name)
        frame, _ = self.unlabeled_frame(name)
        for budget in budgets:
            out, n_pairs, ce_seconds = self.train_reranker(name, budget)
            start = time.perf_counter()
            relabelled = relabel_with_reranker(
                frame, corpus_only.corpus, out, WORK / name / f"labels-chain-{budget}.parquet", depth=10
            )
            relabel_seconds = time.perf_counter() - start
            card = {
                "teacher": f"cross-encoder student trained on {n_pairs} rank-fusion labels",
                "queries": "unlabeled",
                "positives": "each query's top reranked candidate",
            }
            key = f"chain_budget_{budget}"
            result = self.train_eval(name, key, relabelled, TRAIN, card, examples_from=CHAIN_EXAMPLES)
            result.update(
                positives="by rank",
                teacher_pairs=n_pairs,
                reranker_train_seconds=ce_seconds,
                relabelled_pairs=len(relabelled),
                relabel_seconds=round(relabel_seconds, 1),
            )
            self.save()

    def rank_positives_control(self, name: str, depth: int = 10) -> None:
        """The chain's bi-encoder step on the teacher's own labels: same rows (top-``depth`` fused
        candidates + source doc), same rank-based positives, no reranker in between."""
        frame, _ = self.unlabeled_frame(name)
        rows = top_candidates(frame, depth)
        card = {"teacher": "calibrated rank fusion (BM25 + MiniLM)", "positives": "each query's top candidate"}
        result = self.train_eval(name, "teacher_rank_positives", rows, TRAIN, card, examples_from=CHAIN_EXAMPLES)
        result["positives"] = "by rank"
        chain = WORK / name / "chain_budget_4000"
        if (chain / "pseudorel.json").is_file():  # is the chain's reranker worth its cost?
            self.evaluate(name, str(chain), "chain_budget_4000")
            test = paired_test(
                self.runs[(name, "chain_budget_4000")], self.runs[(name, "teacher_rank_positives")], "nDCG@10"
            )
            result["vs_chain_budget_4000_p"] = round(test.p_value, 4)
        self.save()

    def throughput(self, name: str, steps: int = 12) -> None:
        """Our trainer (bf16 autocast) against a plain sentence-transformers loop (fp32, its own
        MultipleNegativesRankingLoss), same data and batch size, in the same process."""
        from datasets import Dataset
        from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer
        from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
        from sentence_transformers.sentence_transformer.training_args import SentenceTransformerTrainingArguments

        from pseudorel.retrieval.models import resolve_model

        corpus_only, train = self.dataset(name)
        frame, _ = self.labels(name, train, "train-queries")
        examples = build_examples(frame, corpus_only.corpus, EXAMPLES)
        pairs = steps * TRAIN.batch_size
        start = time.perf_counter()
        train_bi_encoder(
            BASE, examples, WORK / name / "throughput_ours", replace(TRAIN, max_steps=steps, eval_fraction=0)
        )
        ours = time.perf_counter() - start
        model = SentenceTransformer(resolve_model(BASE), device="cpu")
        data = Dataset.from_dict(examples.to_dataset("none").to_dict())
        args = SentenceTransformerTrainingArguments(
            output_dir=str(WORK / name / "throughput_plain"),
            max_steps=steps,
            per_device_train_batch_size=TRAIN.batch_size,
            use_cpu=True,
            report_to="none",
            save_strategy="no",
        )
        start = time.perf_counter()
        SentenceTransformerTrainer(
            model=model, args=args, train_dataset=data, loss=MultipleNegativesRankingLoss(model)
        ).train()
        plain = time.perf_counter() - start
        self.results.setdefault(name, {})["throughput"] = {
            "steps": steps,
            "ours_pairs_per_s": round(pairs / ours, 2),
            "plain_st_pairs_per_s": round(pairs / plain, 2),
            "speedup": round(plain / ours, 2),
            "note": "ours includes model load and save; plain includes model load",
        }
        self.save()
