"""Test metrics of what ``adapt`` made, against the zero-shot baselines: the one module that
reads test qrels for an adapt run (``adapt --evaluate-split``, ``bench/report_html.py``), for the
report only; nothing here feeds back into training or the guard."""

from __future__ import annotations

import json
from pathlib import Path

from pseudorel._io import atomic_write
from pseudorel.data.trec import write_run
from pseudorel.data.types import Dataset
from pseudorel.evaluation.metrics import evaluate_run
from pseudorel.retrieval.bm25 import BM25Retriever
from pseudorel.retrieval.dense import DenseRetriever
from pseudorel.retrieval.fusion import fuse
from pseudorel.system import SearchSystem
from pseudorel.system.rerank import rerank_run


def evaluate_students(
    dataset: Dataset,
    output: Path,
    split: str,
    base_model: str = "all-MiniLM-L6-v2",
    fusion: str = "rrf",
    reranker: bool = True,
    student: str | None = None,
) -> dict:
    """Test metrics (``split``'s qrels) of the zero-shot model and hybrid, the adapted retriever,
    the sampled-mode ``student`` (a folder name in ``output``), the reranker on BM25 and the
    shipped system; hybrids are fused by ``fusion``, the guard's baseline fusion. The runs are
    saved in ``output/evaluation`` for the report's per-query view."""
    queries = dataset.split_queries(split)
    qrels = dataset.qrels[split]
    retrievers = {
        "bm25": BM25Retriever(dataset.corpus),
        base_model: DenseRetriever(dataset.corpus, model=base_model),
        "retriever": DenseRetriever(dataset.corpus, model=str(output / "retriever")),
    }
    runs = {
        "zero_shot": retrievers[base_model].search(queries, 100),
        "retriever": retrievers["retriever"].search(queries, 100),
        "bm25": retrievers["bm25"].search(queries, 100),
    }
    runs["hybrid_zero_shot"] = fuse([runs["bm25"], runs["zero_shot"]], fusion)
    runs["hybrid_retriever"] = fuse([runs["bm25"], runs["retriever"]], fusion)
    if student and (output / student / "modules.json").is_file():
        retrievers[student] = DenseRetriever(dataset.corpus, model=str(output / student))
        runs["student"] = retrievers[student].search(queries, 100)
        runs["hybrid_student"] = fuse([runs["bm25"], runs["student"]], fusion)
    if reranker and (output / "reranker" / "config.json").is_file():
        runs["bm25+reranker"] = rerank_run(runs["bm25"], queries, dataset.corpus, str(output / "reranker"))
    if (output / "system.json").is_file():
        system = SearchSystem.load(output, retrievers=retrievers)
        runs["system"] = system.search(queries, 100)
    result = {name: evaluate_run(qrels, run).aggregate for name, run in runs.items()}
    save_evaluation(output / "evaluation", runs, qrels, queries)
    return result


def save_evaluation(folder: Path, runs: dict, qrels: dict, queries: dict[str, str]) -> None:
    """The evaluated runs (TREC), their qrels (BEIR TSV) and query texts, for ``pseudorel report``'s
    per-query view; written atomically, file by file."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, run in runs.items():
        write_run(run, folder / f"{name}.trec")
    with atomic_write(folder / "qrels.tsv") as f:
        f.write("query-id\tcorpus-id\tscore\n")
        f.writelines(f"{q}\t{d}\t{g}\n" for q, docs in qrels.items() for d, g in docs.items())
    with atomic_write(folder / "queries.jsonl") as f:
        f.writelines(json.dumps({"_id": q, "text": t}) + "\n" for q, t in queries.items())
