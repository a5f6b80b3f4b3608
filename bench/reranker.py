"""Does a reranker distilled from the teacher's graded scores earn its place?

On an ``adapt`` output folder from bench/system.py (its labels, its held-out guard queries,
its shipped first stage), trains the cross-encoder with listwise KL to the teacher's graded
scores (``--loss distill``) on ``--pairs`` pairs of the non-held-out queries within
``--minutes``, and compares it with adapt's default reranker (``reranker/``, listwise on
thresholded positives): what the guard sees (held-out pseudo-nDCG@10, no qrels) and, with the
test qrels read here only, nDCG@10 of the first stage re-ranked at depths 10 and 20, pure and
blended half-and-half with the first-stage score, with paired p-values against the first
stage; and BM25 re-ranked at 20.

    .venv/bin/python bench/reranker.py [--folder cranfield+nomic] [--pairs 8000] [--minutes 12]
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
from pseudorel.labels.store import load_labels
from pseudorel.system import SearchSystem
from pseudorel.system.guard import GuardSettings, held_out_query_ids, mean, pseudo_ndcg, pseudo_qrels
from pseudorel.system.rerank import blend, cross_encoder_scores
from pseudorel.training.cross_encoder import CrossTrainSettings, train_cross_encoder
from pseudorel.training.examples import teacher_lists

CACHE = Path(__file__).parent / "cache" / "system"
VARIANTS = [(10, 1.0), (10, 0.5), (20, 1.0), (20, 0.5)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folder", default="cranfield+nomic", help="an adapt output under bench/cache/system")
    parser.add_argument("--pairs", type=int, default=8000)
    parser.add_argument("--minutes", type=float, default=12)
    parser.add_argument("--list-size", type=int, default=8)
    args = parser.parse_args()
    folder = CACHE / args.folder
    collection = args.folder.split("+")[0]
    report = Report(f"reranker_{collection}")

    labels = load_labels(folder / "labels.parquet")
    held_out = held_out_query_ids(labels, GuardSettings())
    train = labels[~labels["query_id"].isin(set(held_out))]
    sample = teacher_lists(train, args.list_size, args.pairs)
    settings = CrossTrainSettings(loss="distill", list_size=args.list_size, time_limit_s=args.minutes * 60)
    start = time.perf_counter()
    corpus_only = load_beir(SHARED_DATA / collection, splits=[])
    train_cross_encoder("all-MiniLM-L6-v2", sample, corpus_only.corpus, folder / "reranker_distill", settings)
    train_seconds = time.perf_counter() - start

    system = SearchSystem.load(folder)
    rerankers = {"listwise (adapt's default)": str(folder / "reranker"), "distill": str(folder / "reranker_distill")}
    # label-free: what the guard sees on the held-out queries
    held = {
        q: t
        for q, t in labels.drop_duplicates("query_id").set_index("query_id")["query_text"].items()
        if q in set(held_out)
    }
    pseudo = pseudo_qrels(labels, held_out)
    first_held = system.first_stage(held, 100)
    guard = {"first stage": mean(pseudo_ndcg(first_held, pseudo))}
    for name, path in rerankers.items():
        ce = cross_encoder_scores(first_held, held, system.corpus, path, 20, progress=False)
        for depth, weight in VARIANTS:
            guard[f"{name} @{depth} w{weight}"] = mean(pseudo_ndcg(blend(first_held, ce, depth, weight), pseudo))

    test = load_beir(SHARED_DATA / collection, splits=["test"])  # qrels: evaluation only
    queries, qrels = test.split_queries("test"), test.qrels["test"]
    first = system.first_stage(queries, 100)
    bm25 = system.retriever("bm25").search(queries, 100)
    runs = {"first stage (shipped)": first, "bm25": bm25}
    for name, path in rerankers.items():
        ce = cross_encoder_scores(first, queries, test.corpus, path, 20, progress=False)
        for depth, weight in VARIANTS:
            runs[f"{name} @{depth} w{weight}"] = blend(first, ce, depth, weight)
        runs[f"bm25 >> {name} @20"] = blend(bm25, cross_encoder_scores(bm25, queries, test.corpus, path, 20, False), 20)
    evaluations = {k: evaluate_run(qrels, r) for k, r in runs.items()}
    base = evaluations["first stage (shipped)"].column("nDCG@10")
    table = {
        k: {
            "nDCG@10": e.aggregate["nDCG@10"],
            "p_vs_first_stage": paired_test(base, e.column("nDCG@10"), "nDCG@10").p_value,
        }
        for k, e in evaluations.items()
    }
    report.data.update(
        {
            "folder": args.folder,
            "shipped_first_stage": system.spec.describe(),
            "trained_pairs": len(sample),
            "trained_queries": int(sample["query_id"].nunique()),
            "train_seconds": round(train_seconds, 1),
            "held_out_pseudo_ndcg": guard,
            "test": table,
        }
    )
    lines = [
        f"Folder: {args.folder}; first stage: {system.spec.describe()}.",
        f"Distilled reranker: {len(sample)} pairs ({sample['query_id'].nunique()} queries), {train_seconds:.0f} s.",
        "",
        "| run | held-out pseudo-nDCG@10 (label-free) | test nDCG@10 | p vs first stage |",
        "|---|---|---|---|",
    ]
    for k, m in table.items():
        g = guard.get(k, guard.get("first stage") if k.startswith("first") else None)
        lines.append(f"| {k} | {'' if g is None else f'{g:.4f}'} | {m['nDCG@10']:.4f} | {m['p_vs_first_stage']:.3g} |")
    report.save("\n".join(lines), complete=True)


if __name__ == "__main__":
    main()
