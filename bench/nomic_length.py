"""nomic-embed-text-v1.5 reading 256 vs 512 tokens per document: test nDCG@10 alone and in the
teacher's rank fusion, and the corpus encoding time, on each collection.

    .venv/bin/python bench/nomic_length.py [--datasets scifact nfcorpus cranfield] [--lengths 256 512]

Zero-shot only (no training, nothing tuned): test qrels are read to report, not to choose.
Embeddings are cached by model, length and texts, so a rerun encodes nothing twice.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _report import SHARED_DATA, Report

from pseudorel.data import load_beir
from pseudorel.evaluation import evaluate_run, paired_test
from pseudorel.retrieval import nomic_bert
from pseudorel.retrieval.bm25 import BM25Retriever
from pseudorel.retrieval.dense import DenseRetriever
from pseudorel.retrieval.fusion import reciprocal_rank_fusion
from pseudorel.retrieval.models import DEFAULT_BI_ENCODER


def run_collection(name: str, lengths: list[int]) -> dict:
    test = load_beir(SHARED_DATA / name, splits=["test"])
    queries, qrels = test.split_queries("test"), test.qrels["test"]
    runs = {"bm25": BM25Retriever(test.corpus).search(queries, 100)}
    runs["minilm"] = DenseRetriever(test.corpus, DEFAULT_BI_ENCODER, progress=False).search(queries, 100)
    runs["hybrid_bm25_minilm"] = reciprocal_rank_fusion([runs["bm25"], runs["minilm"]])
    seconds = {}
    for length in lengths:
        nomic_bert.MAX_SEQ_LENGTH = length  # read by NomicEmbedder when the retriever loads it
        start = time.perf_counter()
        nomic = DenseRetriever(test.corpus, "nomic", progress=True)
        seconds[length] = round(time.perf_counter() - start, 1)  # ~0 when cached by an earlier run
        runs[f"nomic@{length}"] = nomic.search(queries, 100)
        runs[f"bm25+nomic@{length}"] = reciprocal_rank_fusion([runs["bm25"], runs[f"nomic@{length}"]])
        runs[f"bm25+minilm+nomic@{length}"] = reciprocal_rank_fusion(
            [runs["bm25"], runs["minilm"], runs[f"nomic@{length}"]]
        )
    evaluations = {key: evaluate_run(qrels, run) for key, run in runs.items()}
    table = {key: dict(e.aggregate) for key, e in evaluations.items()}
    short, long = min(lengths), max(lengths)
    for kind in ("nomic", "bm25+nomic", "bm25+minilm+nomic"):
        test_p = paired_test(
            evaluations[f"{kind}@{short}"].column("nDCG@10"), evaluations[f"{kind}@{long}"].column("nDCG@10"), "nDCG@10"
        )
        table[f"{kind}@{long}"][f"p_vs_{short}"] = test_p.p_value
    return {"test": table, "corpus_encoding_seconds": seconds, "documents": len(test.corpus), "queries": len(queries)}


def markdown(results: dict) -> str:
    out = []
    for name, r in results.items():
        out.append(f"## {name} ({r['documents']} documents, {r['queries']} test queries)\n")
        out.append("| run (test) | nDCG@10 | R@100 | p vs shorter |\n|---|---|---|---|")
        for key, row in r["test"].items():
            p = next((v for k, v in row.items() if k.startswith("p_vs_")), None)
            out.append(f"| {key} | {row['nDCG@10']:.4f} | {row['R@100']:.4f} | {'' if p is None else f'{p:.3g}'} |")
        enc = ", ".join(f"{k} tokens {v} s" for k, v in r["corpus_encoding_seconds"].items())
        out.append(f"\nCorpus encoding with nomic (0 s = cached by an earlier run): {enc}.\n")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", nargs="+", default=["scifact", "nfcorpus", "cranfield"])
    parser.add_argument("--lengths", nargs="+", type=int, default=[256, 512])
    args = parser.parse_args()
    report = Report("nomic_length", keep_previous=True)
    results = report.data.setdefault("collections", {})
    for name in args.datasets:
        results[name] = run_collection(name, args.lengths)
        report.save(markdown(results))
    report.save(markdown(results), complete=True)


if __name__ == "__main__":
    main()
