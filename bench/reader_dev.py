"""Does a reader that runs here add to the teacher's fusion? Measured on qrels that are not the
test ones (SciFact train, NFCorpus dev; bench only, nothing is trained or chosen for adapt).

A reranker can beat the system's first stage only if something that reads each (query,
document) pair knows more than BM25 + MiniLM + nomic fused (bench/results/system). The query
likelihood teacher (UPR: mean log p(query | passage) under a small LM) is the only reader fast
enough on 2 cores. For a seeded sample of queries, the fusion's top-``depth`` list is scored by
each QL model and re-ordered by: QL alone, and the fusion's score interpolated with QL's
(each min-max normalised within the list) at a few fixed weights, and RRF of the two ranks.
nDCG@10 against the dev qrels, paired p against the fusion's own order. Scores are cached
(bench/cache/query_likelihood): a rerun only measures.

    .venv/bin/python bench/reader_dev.py [--models gguf:smollm2-135m] [--queries 60] [--depth 20]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _report import SHARED_DATA, Report, run_table
from query_likelihood import DOMAIN, WORK

from pseudorel.data import load_beir
from pseudorel.evaluation import evaluate_run, paired_test
from pseudorel.llm.backend import ResponseCache
from pseudorel.llm.factory import make_scorer
from pseudorel.retrieval.bm25 import BM25Retriever
from pseudorel.retrieval.dense import DenseRetriever
from pseudorel.retrieval.fusion import fuse, reciprocal_rank_fusion
from pseudorel.retrieval.models import DEFAULT_BI_ENCODER
from pseudorel.teachers.query_likelihood import QLSettings, QueryLikelihoodTeacher

SPLITS = {"scifact": "train", "nfcorpus": "dev"}
QL_WEIGHTS = (0.2, 0.35, 0.5)
DEFAULT_QUERIES = 60
FUSION = "fusion (interpolate bm25+minilm+nomic)"


def first_stage(name: str, split: str, n_queries: int, depth: int, seed: int):
    data = load_beir(SHARED_DATA / name, splits=[split])
    qrels = data.qrels[split]
    queries = data.split_queries(split)
    ids = sorted(q for q in queries if q in qrels)
    sample = sorted(random.Random(seed).sample(ids, min(n_queries, len(ids))))
    queries = {q: queries[q] for q in sample}
    runs = [
        BM25Retriever(data.corpus).search(queries, 100),
        DenseRetriever(data.corpus, DEFAULT_BI_ENCODER, progress=False).search(queries, 100),
        DenseRetriever(data.corpus, "nomic", progress=False).search(queries, 100),
    ]
    fused = fuse(runs, "interpolate", (1.0, 1.0, 1.0), top_k=depth)
    return data.corpus, queries, {q: qrels[q] for q in sample}, fused


def reader_runs(fused: dict, ql: dict) -> dict[str, dict]:
    """The fusion's lists re-ordered by QL alone and by QL combined with the fusion."""
    runs = {"ql alone": ql, "rrf(fusion, ql)": reciprocal_rank_fusion([fused, ql], top_k=1000)}
    for w in QL_WEIGHTS:
        runs[f"fusion + {w} ql"] = fuse([fused, ql], "interpolate", (1 - w, w), top_k=1000)
    return runs


def run_collection(name: str, split: str, models: list[str], args, earlier_speeds: dict) -> dict:
    """``earlier_speeds``: pairs/s of an earlier run, kept for a model this run reads all from the cache."""
    corpus, queries, qrels, fused = first_stage(name, split, args.queries, args.depth, args.seed)
    pairs = [(q, d) for q in sorted(fused) for d in sorted(fused[q])]
    evaluations = {FUSION: evaluate_run(qrels, fused)}
    speeds = {}
    for model in models:
        teacher = QueryLikelihoodTeacher(
            make_scorer(model), QLSettings(domain=DOMAIN[name]), ResponseCache(WORK / f"{name}.sqlite")
        )
        cache_before, start = len(teacher.cache), time.perf_counter()
        scores = teacher.score([queries[q] for q, _ in pairs], [corpus[d].full_text for _, d in pairs])
        scored = len(teacher.cache) - cache_before
        speeds[model] = round(scored / (time.perf_counter() - start), 2) if scored else earlier_speeds.get(model)
        if np.isnan(scores).any():
            raise SystemExit(f"{model}: {int(np.isnan(scores).sum())} pairs not scored ({teacher.last_error})")
        ql: dict[str, dict[str, float]] = {}
        for (q, d), s in zip(pairs, scores, strict=True):
            ql.setdefault(q, {})[d] = float(s)
        for key, run in reader_runs(fused, ql).items():
            evaluations[f"{model}: {key}"] = evaluate_run(qrels, run)
    base = evaluations[FUSION].column("nDCG@10")
    table = {
        key: {**e.aggregate, "p_vs_fusion": paired_test(base, e.column("nDCG@10"), "nDCG@10").p_value}
        for key, e in evaluations.items()
    }
    return {"split": split, "queries": len(queries), "depth": args.depth, "pairs_per_s": speeds, "runs": table}


def markdown(results: dict) -> str:
    out = [
        "Each query's list is the fusion's top-depth; every run re-orders that list, so R@100 is the same "
        "for all. pairs/s: uncached scoring speed in the run that first scored the pairs.\n"
    ]
    for name, r in results.items():
        speeds = ", ".join(f"{m} {s} pairs/s" for m, s in r["pairs_per_s"].items() if s)
        out.append(f"## {name.split(',')[0]}, {r['split']} qrels ({r['queries']} queries, top-{r['depth']})\n")
        if speeds:
            out.append(speeds + "\n")
        out.append(run_table(r["runs"], "run", "p_vs_fusion", "p vs fusion") + "\n")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", nargs="+", default=list(SPLITS))
    parser.add_argument("--models", nargs="+", default=["gguf:smollm2-135m"])
    parser.add_argument("--queries", type=int, default=DEFAULT_QUERIES)
    parser.add_argument("--depth", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    report = Report("reader_dev", keep_previous=True)
    results = report.data.setdefault("collections", {})
    for name in args.datasets:
        key = name if args.queries == DEFAULT_QUERIES else f"{name}, {args.queries} queries"
        earlier = results.get(key, {}).get("pairs_per_s", {})
        results[key] = run_collection(name, SPLITS[name], args.models, args, earlier)
        report.save(markdown(results))
    report.save(markdown(results), complete=True)


if __name__ == "__main__":
    main()
