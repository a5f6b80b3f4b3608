"""The query-likelihood teacher's quality against human train qrels (read here only to measure it).

For a seeded sample of train queries, each query's BM25 top-``depth`` documents are scored by
the query-likelihood teacher (mean log p(query token | document, instruction), UPR), by BM25
and by all-MiniLM-L6-v2 cosine. With the train qrels: ROC-AUC of each score centred per query
(the teacher's scores are compared within a query) and nDCG@10 of the top-``depth`` list
re-ordered by each score, and of BM25 and query likelihood fused (RRF within the list); plus
scoring throughput on 2 cores. Scores are cached (bench/cache/query_likelihood): a rerun only
measures.

    .venv/bin/python bench/query_likelihood.py [--models gguf:smollm2-135m gguf:qwen2.5-coder-0.5b]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _report import SHARED_DATA, Report

from pseudorel.data import load_beir
from pseudorel.data.beir import split_query_ids
from pseudorel.evaluation import evaluate_run
from pseudorel.labels.query_likelihood import centred_by_query
from pseudorel.llm.backend import ResponseCache
from pseudorel.llm.factory import make_scorer
from pseudorel.retrieval.bm25 import BM25Retriever
from pseudorel.retrieval.dense import DenseRetriever
from pseudorel.teachers.query_likelihood import QLSettings, QueryLikelihoodTeacher

WORK = Path(__file__).parent / "cache" / "query_likelihood"
DOMAIN = {"scifact": "claim", "nfcorpus": "generic", "cranfield": "question"}


def auc(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    keep = ~np.isnan(p)
    return float(roc_auc_score(y[keep], p[keep])) if len(set(y[keep])) == 2 else float("nan")


def candidates(name: str, n_queries: int, depth: int, seed: int) -> tuple[pd.DataFrame, dict, dict]:
    """BM25's top-``depth`` for a seeded sample of train queries that have qrels, with BM25 and
    MiniLM scores; the corpus and the train qrels (evaluation only)."""
    folder = SHARED_DATA / name
    split = "train" if (folder / "qrels" / "train.tsv").is_file() else "test"
    data = load_beir(folder, splits=[split])
    ids = [q for q in split_query_ids(folder, split) if q in data.qrels[split] and q in data.queries]
    sample = sorted(random.Random(seed).sample(ids, min(n_queries, len(ids))))
    queries = {q: data.queries[q] for q in sample}
    bm25 = BM25Retriever(data.corpus).search(queries, depth)
    dense = DenseRetriever(data.corpus, "all-MiniLM-L6-v2", progress=False).search(queries, 1000)
    rows = [
        {"query_id": q, "doc_id": d, "query_text": queries[q], "bm25": s, "minilm": dense[q].get(d, np.nan)}
        for q in sample
        for d, s in bm25[q].items()
    ]
    frame = pd.DataFrame(rows)
    qrels = data.qrels[split]
    frame["relevant"] = [
        int(qrels.get(q, {}).get(d, 0) > 0) for q, d in zip(frame["query_id"], frame["doc_id"], strict=True)
    ]
    return frame, data.corpus, {q: qrels[q] for q in sample}


def measure(frame: pd.DataFrame, qrels: dict, column: str) -> dict:
    scores = frame[column].to_numpy(dtype=float)
    run: dict[str, dict[str, float]] = {}
    for q, d, s in zip(frame["query_id"], frame["doc_id"], scores, strict=True):
        if not np.isnan(s):
            run.setdefault(q, {})[d] = float(s)
    ndcg = evaluate_run({q: qrels[q] for q in run}, run).aggregate["nDCG@10"]
    centred = centred_by_query(frame["query_id"], scores)
    return {"auc_centred": auc(frame["relevant"].to_numpy(), centred), "ndcg@10_rerank": ndcg}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", nargs="+", default=["scifact", "nfcorpus"])
    parser.add_argument("--models", nargs="+", default=["gguf:smollm2-135m", "gguf:qwen2.5-coder-0.5b"])
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--depth", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    report = Report("query_likelihood", keep_previous=True)
    results = report.data.setdefault("datasets", {})
    for name in args.datasets:
        earlier = json.loads(json.dumps(results.get(name, {})))  # before this run overwrites it
        frame, corpus, qrels = candidates(name, args.queries, args.depth, args.seed)
        out = {
            "queries": frame["query_id"].nunique(),
            "pairs": len(frame),
            "relevant_pairs": int(frame["relevant"].sum()),
            "teachers": {"bm25": measure(frame, qrels, "bm25"), "minilm": measure(frame, qrels, "minilm")},
        }
        passages = [corpus[d].full_text for d in frame["doc_id"]]
        for model in args.models:
            scorer = make_scorer(model)
            cache = ResponseCache(WORK / f"{name}.sqlite")
            teacher = QueryLikelihoodTeacher(scorer, QLSettings(domain=DOMAIN.get(name, "generic")), cache)
            before, start = len(cache), time.perf_counter()
            frame[model] = teacher.score(frame["query_text"].tolist(), passages)
            seconds, scored = time.perf_counter() - start, len(cache) - before
            previous = earlier.get("teachers", {}).get(f"ql {model}", {}).get("pairs_per_s")
            speed = scored / seconds if scored else previous  # all from the cache: the first run's speed
            out["teachers"][f"ql {model}"] = {**measure(frame, qrels, model), "pairs_per_s": speed}
            # does it add to BM25? reciprocal rank fusion of the two within each query's list
            ranks = frame.groupby("query_id")[["bm25", model]].rank(ascending=False)
            frame[f"bm25+{model}"] = 1 / (60 + ranks["bm25"]) + 1 / (60 + ranks[model])
            out["teachers"][f"bm25 + ql {model} (RRF)"] = measure(frame, qrels, f"bm25+{model}")
            results[name] = out
            report.save(markdown(report.data))
    report.save(markdown(report.data), complete=True)


SPEED_NOTE = (
    "pairs/s: the first (uncached) run's speed; it ran with 1 torch thread beside another job, so it is a "
    "rough, pessimistic figure. A rerun re-measures quality from the score cache."
)


def markdown(data: dict) -> str:
    lines = [SPEED_NOTE, ""]
    for name, r in data.get("datasets", {}).items():
        lines += [
            f"## {name}",
            "",
            f"{r['queries']} train queries, BM25 top-{r['pairs'] // max(r['queries'], 1)} each "
            f"({r['pairs']} pairs, {r['relevant_pairs']} relevant by the train qrels).",
            "",
            "| teacher | ROC-AUC (centred per query) | nDCG@10 of the list re-ordered | pairs/s |",
            "|---|---|---|---|",
        ]
        for teacher, m in r["teachers"].items():
            speed = f"{m['pairs_per_s']:.2f}" if m.get("pairs_per_s") else ""
            lines.append(f"| {teacher} | {m['auc_centred']:.3f} | {m['ndcg@10_rerank']:.4f} | {speed} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
