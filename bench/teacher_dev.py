"""Which fusion of the zero-shot retrievers makes the strongest teacher, measured on qrels that
are not the test ones: SciFact's train queries and NFCorpus' dev queries (bench only; no
default is chosen on test qrels). Nothing is trained.

    .venv/bin/python bench/teacher_dev.py

The teacher is what `adapt` ships when no learned part beats it (bench/results/system), so a
stronger zero-shot teacher is a stronger product. Rows: BM25 + MiniLM (the old teacher),
BM25 + MiniLM + nomic, BM25 + nomic, and with all-mpnet-base-v2 (110M, the larger bi-encoder
here) added, each fused by reciprocal ranks and by min-max score interpolation; paired p
against today's default (BM25 + MiniLM + nomic interpolated).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _report import SHARED_DATA, Report, run_table

from pseudorel.data import load_beir
from pseudorel.evaluation import evaluate_run, paired_test
from pseudorel.retrieval.bm25 import BM25Retriever
from pseudorel.retrieval.dense import DenseRetriever
from pseudorel.retrieval.fusion import fuse
from pseudorel.retrieval.models import DEFAULT_BI_ENCODER

SPLITS = {"scifact": "train", "nfcorpus": "dev"}
DEFAULT = "interpolate bm25+minilm+nomic"  # adapt's teacher since session 11
COMPOSITIONS = {
    "bm25+minilm": ("bm25", "minilm"),
    "bm25+minilm+nomic": ("bm25", "minilm", "nomic"),
    "bm25+nomic": ("bm25", "nomic"),
    "bm25+minilm+nomic+mpnet": ("bm25", "minilm", "nomic", "mpnet"),
    "bm25+nomic+mpnet": ("bm25", "nomic", "mpnet"),
}


def run_collection(name: str, split: str) -> dict:
    data = load_beir(SHARED_DATA / name, splits=[split])
    queries, qrels = data.split_queries(split), data.qrels[split]
    single = {
        "bm25": BM25Retriever(data.corpus).search(queries, 100),
        "minilm": DenseRetriever(data.corpus, DEFAULT_BI_ENCODER, progress=False).search(queries, 100),
        "nomic": DenseRetriever(data.corpus, "nomic", progress=False).search(queries, 100),
        "mpnet": DenseRetriever(data.corpus, "all-mpnet-base-v2", progress=False).search(queries, 100),
    }
    runs = dict(single)
    for label, parts in COMPOSITIONS.items():
        for method in ("rrf", "interpolate"):
            runs[f"{method} {label}"] = fuse([single[p] for p in parts], method, (1.0,) * len(parts))
    evaluations = {key: evaluate_run(qrels, run) for key, run in runs.items()}
    base = evaluations[DEFAULT].column("nDCG@10")
    table = {}
    for key, e in evaluations.items():
        table[key] = {**e.aggregate, "p_vs_default": paired_test(base, e.column("nDCG@10"), "nDCG@10").p_value}
    return {"split": split, "queries": len(queries), "runs": table}


def markdown(results: dict) -> str:
    out = []
    for name, r in results.items():
        out.append(f"## {name}, {r['split']} qrels ({r['queries']} queries)\n")
        out.append(run_table(r["runs"], "run", "p_vs_default", f"p vs {DEFAULT}") + "\n")
    return "\n".join(out)


def main() -> None:
    report = Report("teacher_dev")
    results = report.data.setdefault("collections", {})
    for name, split in SPLITS.items():
        results[name] = run_collection(name, split)
        report.save(markdown(results))
    report.save(markdown(results), complete=True)


if __name__ == "__main__":
    main()
