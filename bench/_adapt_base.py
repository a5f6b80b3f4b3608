"""bench/adapt.py's shared part: datasets, labels, evaluation, the result table."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
from _report import SHARED_DATA, Report

from pseudorel.data import load_beir
from pseudorel.data.beir import available_splits, split_query_ids
from pseudorel.evaluation import evaluate_run, paired_test
from pseudorel.labels.pipeline import LabelSettings, label_pairs
from pseudorel.queries import Query
from pseudorel.retrieval.bm25 import BM25Retriever
from pseudorel.retrieval.dense import DenseRetriever
from pseudorel.retrieval.fusion import reciprocal_rank_fusion

WORK = Path(__file__).parent / "cache" / "adapt"
BASE = "all-MiniLM-L6-v2"


class AdaptBench:
    """Datasets (corpus and train queries as text, no qrels), cached labels, test evaluation."""

    def __init__(self, report: Report):
        self.report = report
        self.results = report.data.setdefault("results", {})
        self.datasets: dict = {}
        self.runs: dict = {}

    def dataset(self, name: str):
        if name not in self.datasets:
            folder = SHARED_DATA / name
            corpus_only = load_beir(folder, splits=[])
            train_ids = split_query_ids(folder, "train") if "train" in available_splits(folder) else []
            train = [Query(q, corpus_only.queries[q]) for q in train_ids if q in corpus_only.queries]
            self.datasets[name] = (corpus_only, train)
        return self.datasets[name]

    def test_set(self, name: str):
        return load_beir(SHARED_DATA / name, splits=["test"])  # qrels: evaluation only

    def evaluate(self, name: str, model: str, key: str) -> dict:
        test = self.test_set(name)
        queries = test.split_queries("test")
        start = time.perf_counter()
        run = DenseRetriever(test.corpus, model=model, progress=False).search(queries, 100)
        ev = evaluate_run(test.qrels["test"], run)
        self.runs[(name, key)] = ev.column("nDCG@10")
        return {"metrics": ev.aggregate, "eval_seconds": round(time.perf_counter() - start, 1)}

    def labels(self, name: str, queries: list[Query], tag: str, settings: LabelSettings | None = None):
        corpus_only, _ = self.dataset(name)
        start = time.perf_counter()
        frame, _ = label_pairs(corpus_only.corpus, queries, settings or LabelSettings(), WORK / name / f"labels-{tag}")
        return frame, time.perf_counter() - start

    def save(self, complete: bool = False) -> None:
        self.report.save(markdown(self.results), complete=complete)

    def baselines(self, name: str) -> None:
        test = self.test_set(name)
        queries, qrels = test.split_queries("test"), test.qrels["test"]
        bm25 = BM25Retriever(test.corpus).search(queries, 100)
        dense = DenseRetriever(test.corpus, model=BASE, progress=False).search(queries, 100)
        block = self.results.setdefault(name, {})
        for key, run in (
            ("zero_shot_dense", dense),
            ("bm25", bm25),
            ("teacher_rank_fusion", reciprocal_rank_fusion([bm25, dense])),
        ):
            ev = evaluate_run(qrels, run)
            self.runs[(name, key)] = ev.column("nDCG@10")
            block[key] = {"metrics": ev.aggregate}
        self.save()

    def significance(self) -> None:
        for (name, key), scores in list(self.runs.items()):
            base = self.runs.get((name, "zero_shot_dense"))
            if base is None or key == "zero_shot_dense" or key not in self.results.get(name, {}):
                continue
            test = paired_test(base, scores, "nDCG@10")
            self.results[name][key]["vs_zero_shot_p"] = round(test.p_value, 4)
        self.save()


def gold_labels(queries: list[Query], qrels: dict) -> pd.DataFrame:
    """SUPERVISED: a label table of ``queries`` from human qrels, each positive label 1.0 (the
    query tower spreads a query's target equally over its positives)."""
    rows = [
        {"query_id": q.id, "query_text": q.text, "query_source": "log", "doc_id": d, "label": 1.0}
        for q in queries
        for d, grade in qrels.get(q.id, {}).items()
        if grade > 0
    ]
    return pd.DataFrame(rows)


def evaluate_dev(dev, model: str) -> dict:
    """Metrics of ``model`` on a dev collection's held-out queries: ``dev = (dataset, query ids)``."""
    dataset, held = dev
    queries = {q: dataset.queries[q] for q in held}
    qrels = {q: dataset.qrels["test"][q] for q in held if q in dataset.qrels["test"]}
    run = DenseRetriever(dataset.corpus, model=model, progress=False).search(queries, 100)
    return {"metrics": evaluate_run(qrels, run).aggregate, "eval_queries": len(qrels)}


def markdown(results: dict) -> str:
    lines = [
        "| dataset | system | nDCG@10 | R@100 | examples | train s | pairs/s | p vs zero-shot |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, block in results.items():
        for key, r in block.items():
            if "metrics" not in r:
                continue
            m = r["metrics"]
            lines.append(
                f"| {name} | {key} | {m['nDCG@10']:.4f} | {m['R@100']:.4f} | "
                f"{r.get('examples', r.get('train_pairs', '-'))} | "
                f"{r.get('train_seconds', '-')} | {r.get('pairs_per_s', '-')} | {r.get('vs_zero_shot_p', '-')} |"
            )
    for name, block in results.items():
        chain = sorted(
            (
                (r["teacher_pairs"], r)
                for k, r in block.items()
                if k.startswith("chain_budget_") and "teacher_pairs" in r
            ),
            key=lambda item: item[0],
        )
        if chain:
            lines += [
                "",
                f"Distillation chain on {name}: the teacher (rank fusion) labels a budget of pairs, a cross-encoder "
                "student trained on them relabels every query's top-10 fused candidates, the bi-encoder trains on its "
                "labels (positive: each query's top reranked candidate).",
                "",
                "| teacher-labelled pairs | reranker train s | relabelled pairs | relabel s | bi-encoder nDCG@10 |",
                "|---|---|---|---|---|",
            ]
            for pairs, r in chain:
                lines.append(
                    f"| {pairs} | {r['reranker_train_seconds']} | {r['relabelled_pairs']} | {r['relabel_seconds']} "
                    f"| {r['metrics']['nDCG@10']:.4f} |"
                )
    for name, block in results.items():
        if "throughput" in block:
            t = block["throughput"]
            lines += [
                "",
                f"Training throughput on {name} ({t['steps']} steps, batch 32): pseudorel {t['ours_pairs_per_s']} "
                f"pairs/s vs plain sentence-transformers {t['plain_st_pairs_per_s']} pairs/s ({t['speedup']}x).",
            ]
        if "llm_queries" in block:
            q = block["llm_queries"]
            lines += [
                "",
                f"LLM-written queries on {name} ('{q['domain']}' framing, {q['budget_minutes']:g}-minute budget): "
                f"{q['generated']} for {q['documents']} documents in {q['seconds']:.0f} s "
                f"({q['duplicates']} duplicates, {q['failed']} failed). First ones: "
                + "; ".join(f"*{text}*" for text in q["examples"][:3]),
            ]
        for key in [k for k in block if k.startswith("adapt_command")]:
            a = block[key]
            stages = ", ".join(f"{k} {v:.0f} s" for k, v in a["stage_seconds"].items())
            reranked = (a.get("reranker_bm25_top100") or {}).get("nDCG@10")
            lines += [
                "",
                f"`pseudorel adapt` on {name} with its defaults"
                + (" and `--learning-rates 5e-5,2e-4`" if a.get("learning_rate_selection") else "")
                + f" and a {a['time_budget_minutes']:g}-minute budget "
                f"({a['queries']['unlabeled']} unlabeled + {a['queries']['synthetic']} synthetic queries, "
                f"{a['examples']} {'queries' if a.get('retriever_tower') == 'query' else 'examples'} for the "
                f"retriever; steps done/planned: {a['steps']}): {stages}. "
                f"Retriever nDCG@10 {a['metrics']['nDCG@10']:.4f}"
                + (f", reranker on BM25 top-100 {reranked:.4f}." if reranked is not None else ".")
                + (f" Learning-rate choice: {choice}." if (choice := a.get("learning_rate_selection")) else ""),
            ]
    return "\n".join(lines) + "\n"
