"""Which student carries the sampled teacher: variants trained on the labels of a `bench/distill.py`
run (its cache must exist), each evaluated alone and fused with BM25 (and MiniLM) on test qrels.

    .venv/bin/python bench/distill_students.py [--dataset cranfield]

Variants (all label-free, the guard's held-out queries left out of training): the least-squares
projection of MiniLM to nomic's embeddings with no training (the embedding student's start);
the query tower on the fused teacher's labels (adapt's retriever), on nomic's calibrated
judgment (the default student), and on nomic's cosines as a softmax at two temperatures. The
embedding student itself is `bench/distill.py --student-kind embedding`.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _corpora import load_collection
from _report import Report

from pseudorel.evaluation import evaluate_run
from pseudorel.labels.sampled import pair_scores
from pseudorel.retrieval.bm25 import BM25Retriever
from pseudorel.retrieval.dense import DenseRetriever
from pseudorel.retrieval.fusion import fuse
from pseudorel.system.guard import GuardSettings, held_out_query_ids
from pseudorel.training.corpus_student import distillation_texts, teacher_embeddings
from pseudorel.training.embedding_student import student_model
from pseudorel.training.query_tower import train_query_tower

CACHE = Path(__file__).parent / "cache"
BASE = "all-MiniLM-L6-v2"


def query_tower_labels(labels: pd.DataFrame, cosine: np.ndarray, target: str) -> pd.DataFrame:
    if target == "fused":
        return labels
    if target == "calibrated":
        return labels.assign(label=labels["prob_dense_nomic"])
    tau = float(target.removeprefix("softmax"))
    best = labels.assign(c=cosine).groupby("query_id")["c"].transform("max").to_numpy()
    return labels.assign(label=np.exp((cosine - best) / tau))


def asymmetric_rows(data, labels, held_out, queries, bm25, minilm) -> dict:
    """A lead, not a student yet: test queries encoded by nomic itself (short texts: cheap) against
    documents encoded by MiniLM and mapped into nomic's space by the least-squares projection fitted
    on the documents the teacher read (no training). Returns runs alone and fused, per ridge."""
    from pseudorel.retrieval.models import load_bi_encoder
    from pseudorel.training.embedding_student import least_squares_projection

    _, docs = distillation_texts(labels, data.corpus, held_out)
    targets = teacher_embeddings("nomic", [], docs)
    targets /= np.linalg.norm(targets, axis=1, keepdims=True)
    minilm_model = load_bi_encoder(BASE)
    source = minilm_model.encode(docs, batch_size=64)
    ids = list(data.corpus)
    corpus_source = minilm_model.encode([data.corpus[d].full_text for d in ids], batch_size=64)
    qids = list(queries)
    query_emb = teacher_embeddings("nomic", [queries[q] for q in qids], [])
    query_emb /= np.linalg.norm(query_emb, axis=1, keepdims=True)
    rows = {}
    for ridge in (1e-4, 1e-3, 1e-2):
        weight, bias = least_squares_projection(source, targets, ridge)
        mapped = corpus_source @ weight.T + bias
        mapped /= np.linalg.norm(mapped, axis=1, keepdims=True)
        scores = query_emb @ mapped.T
        run = {qid: {ids[j]: float(scores[i, j]) for j in np.argsort(-scores[i])[:100]} for i, qid in enumerate(qids)}
        rows[f"nomic queries x mapped MiniLM documents, ridge {ridge:g} (lead)"] = {
            "alone": run,
            "bm25": fuse([bm25, run], "interpolate"),
            "bm25_minilm": fuse([bm25, minilm, run], "interpolate"),
        }
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", default="cranfield")
    args = parser.parse_args()
    data = load_collection(args.dataset)
    run_dir = CACHE / "distill" / args.dataset
    labels = pd.read_parquet(run_dir / "labels.parquet")
    held_out = held_out_query_ids(labels, GuardSettings())
    work = CACHE / "distill_students" / args.dataset
    report = Report(f"distill_students_{args.dataset}")
    queries, qrels = data.split_queries("test"), data.qrels["test"]  # qrels: evaluation only
    bm25 = BM25Retriever(data.corpus).search(queries, 100)
    minilm = DenseRetriever(data.corpus, BASE, progress=False).search(queries, 100)
    rows = {"MiniLM zero-shot": {"alone": minilm, "bm25": fuse([bm25, minilm], "interpolate")}}

    texts, docs = distillation_texts(labels, data.corpus, held_out)
    targets = teacher_embeddings("nomic", texts, docs)
    targets /= np.linalg.norm(targets, axis=1, keepdims=True)
    start = student_model(BASE, texts + docs, targets, 256)
    shutil.rmtree(work / "least_squares", ignore_errors=True)
    start.save(str(work / "least_squares"))
    variants = {"least-squares projection, no training": work / "least_squares"}

    cosine = pair_scores("dense:nomic", data.corpus, labels, progress=False)
    train = ~labels["query_id"].isin(set(held_out)).to_numpy()
    for target in ("fused", "calibrated", "softmax0.02", "softmax0.05"):
        folder = work / f"query_tower_{target}"
        shutil.rmtree(folder, ignore_errors=True)
        train_query_tower(BASE, query_tower_labels(labels, cosine, target)[train], data.corpus, folder)
        variants[f"query tower, target: {target}"] = folder
    for name, folder in variants.items():
        run = DenseRetriever(data.corpus, str(folder), progress=False, use_cache=False).search(queries, 100)
        rows[name] = {
            "alone": run,
            "bm25": fuse([bm25, run], "interpolate"),
            "bm25_minilm": fuse([bm25, minilm, run], "interpolate"),
        }
    rows.update(asymmetric_rows(data, labels, held_out, queries, bm25, minilm))
    table = {
        name: {kind: round(evaluate_run(qrels, run).aggregate["nDCG@10"], 4) for kind, run in runs.items()}
        for name, runs in rows.items()
    }
    report.data = {"dataset": args.dataset, "test_ndcg@10": table}
    lines = ["| student | alone | + BM25 | + BM25 + MiniLM |", "|---|---|---|---|"]
    for name, row in table.items():
        lines.append(f"| {name} | {row['alone']} | {row['bm25']} | {row.get('bm25_minilm', '-')} |")
    report.save("\n".join(lines) + "\n", complete=True)


if __name__ == "__main__":
    main()
