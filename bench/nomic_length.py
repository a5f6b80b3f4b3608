"""nomic-embed-text-v1.5 reading 256 vs 512 tokens per document: test nDCG@10 alone and in the
teacher's rank fusion, and the corpus encoding time, on each collection.

    .venv/bin/python bench/nomic_length.py [--datasets scifact nfcorpus cranfield] [--lengths 256 512]

Zero-shot only (no training, nothing tuned): test qrels are read to report, not to choose.
Embeddings are cached by model, length and texts, so a rerun encodes nothing twice.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _report import SHARED_DATA, Report, run_table

from pseudorel.data import load_beir
from pseudorel.evaluation import evaluate_run, paired_test
from pseudorel.retrieval import nomic_bert
from pseudorel.retrieval.batch import autocast
from pseudorel.retrieval.bm25 import BM25Retriever
from pseudorel.retrieval.dense import DenseRetriever
from pseudorel.retrieval.fusion import reciprocal_rank_fusion
from pseudorel.retrieval.models import DEFAULT_BI_ENCODER
from pseudorel.retrieval.nomic_bert import PREFIXES


def documents_per_second(model, texts: list[str], lengths: list[int], repeats: int) -> dict[int, float]:
    """Median documents/s of ``model`` on ``texts`` at each length, measured in the same run."""
    timings: dict[int, list[float]] = {length: [] for length in lengths}
    for _ in range(repeats):
        for length in lengths:
            model.max_seq_length = length
            start = time.perf_counter()
            with autocast("bf16"):
                model.encode(texts, batch_size=16, task="document")
            timings[length].append(time.perf_counter() - start)
    return {length: round(len(texts) / statistics.median(t), 2) for length, t in timings.items()}


def run_collection(name: str, lengths: list[int], previous: dict, speed_docs: int, repeats: int) -> dict:
    test = load_beir(SHARED_DATA / name, splits=["test"])
    queries, qrels = test.split_queries("test"), test.qrels["test"]
    runs = {"bm25": BM25Retriever(test.corpus).search(queries, 100)}
    runs["minilm"] = DenseRetriever(test.corpus, DEFAULT_BI_ENCODER, progress=False).search(queries, 100)
    runs["hybrid_bm25_minilm"] = reciprocal_rank_fusion([runs["bm25"], runs["minilm"]])
    seconds = {}
    texts = [doc.full_text for doc in test.corpus.values()]
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
        table[f"{kind}@{long}"]["p_vs_shorter"] = test_p.p_value
    # a cached rerun encodes nothing: keep the longest time measured, that of the run that encoded
    earlier = {int(k): v for k, v in previous.get("corpus_encoding_seconds", {}).items()}
    seconds = {length: max(seconds[length], earlier.get(length, 0.0)) for length in lengths}
    tokens = np.array(
        [len(ids) for ids in nomic.model.tokenizer([PREFIXES["document"] + t for t in texts])["input_ids"]]
    )
    sample = texts[:speed_docs]
    return {
        "test": table,
        "corpus_encoding_seconds": seconds,
        "documents_over": {length: round(float((tokens > length).mean()), 3) for length in lengths},
        "documents_per_second": documents_per_second(nomic.model, sample, lengths, repeats),
        "speed_sample": len(sample),
        "documents": len(test.corpus),
        "queries": len(queries),
    }


def markdown(results: dict) -> str:
    out = []
    for name, r in results.items():
        out.append(f"## {name} ({r['documents']} documents, {r['queries']} test queries)\n")
        out.append(run_table(r["test"], "run (test)", "p_vs_shorter", "p vs shorter"))
        enc = ", ".join(f"{k} tokens {v} s" for k, v in r["corpus_encoding_seconds"].items())
        over = ", ".join(f"{v:.0%} over {k}" for k, v in r["documents_over"].items())
        speed = ", ".join(f"{k} tokens {v} docs/s" for k, v in r["documents_per_second"].items())
        out.append(
            f"\nDocuments longer than the length (nomic's tokens, with the prefix): {over}. "
            f"Corpus encoding with nomic, the longest of this bench's runs (near 0 s: cached before any run): {enc}. "
            f"Speed on the first {r['speed_sample']} documents, bf16, median of the repeats, same run: {speed}.\n"
        )
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", nargs="+", default=["scifact", "nfcorpus", "cranfield"])
    parser.add_argument("--lengths", nargs="+", type=int, default=[256, 512])
    parser.add_argument("--speed-docs", type=int, default=48)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    report = Report("nomic_length", keep_previous=True)
    previous = report.data.pop("collections", {})
    results = report.data["collections"] = {}
    for name in args.datasets:
        results[name] = run_collection(name, args.lengths, previous.get(name, {}), args.speed_docs, args.repeats)
        report.save(markdown(results))
    report.save(markdown(results), complete=True)


if __name__ == "__main__":
    main()
