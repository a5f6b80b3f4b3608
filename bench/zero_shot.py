"""Zero-shot baselines: BM25, all-MiniLM-L6-v2 dense and their RRF hybrid on the shared collections.

Writes bench/results/zero_shot.{json,md}. Encoding is timed twice per precision: cold (empty
cache) and warm (the same retriever built again, which loads the cached embeddings). The hybrid
fuses BM25 with the first precision's dense run.

    .venv/bin/python bench/zero_shot.py [--datasets scifact nfcorpus cranfield] [--precisions fp32 bf16]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _report import SHARED_DATA, Report

from pseudorel.data import load_beir
from pseudorel.evaluation import evaluate_run, paired_test
from pseudorel.retrieval.bm25 import BM25Retriever
from pseudorel.retrieval.dense import DenseRetriever
from pseudorel.retrieval.factory import HybridRetriever

#: Acceptance ranges for nDCG@10 (issue #2; published figures in shared/data/README.md).
EXPECTED = {
    ("scifact", "bm25"): (0.66, 0.70),
    ("nfcorpus", "bm25"): (0.31, 0.335),
    ("scifact", "dense"): (0.635, 0.655),
    ("nfcorpus", "dense"): (0.306, 0.326),
}


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def bench_dataset(name: str, precisions: list[str], batch_size: int) -> dict:
    ds = load_beir(SHARED_DATA / name, splits=["test"])
    queries, qrels = ds.split_queries("test"), ds.qrels["test"]
    result: dict = {"docs": len(ds.corpus), "queries": len(queries), "systems": {}}

    bm25, t_index = timed(lambda: BM25Retriever(ds.corpus))
    bm25_run, t_search = timed(lambda: bm25.search(queries, 100))
    runs = {"bm25": (bm25_run, {"index_s": t_index, "search_s": t_search})}

    dense_by_precision = {}
    for precision in precisions:
        system = "dense" if precision == "fp32" else f"dense-{precision}"
        opts = {"model": "all-MiniLM-L6-v2", "precision": precision, "batch_size": batch_size}
        dense, t_cold = timed(lambda opts=opts: DenseRetriever(ds.corpus, **opts))
        dense, t_warm = timed(lambda opts=opts: DenseRetriever(ds.corpus, **opts))
        dense_run, t_search = timed(lambda dense=dense: dense.search(queries, 100))
        dense_by_precision[precision] = dense
        runs[system] = (
            dense_run,
            {
                "encode_cold_s": t_cold,
                "encode_docs_per_s": len(ds.corpus) / t_cold,
                "index_warm_s": t_warm,
                "search_s": t_search,
            },
        )
    dense = dense_by_precision[precisions[0]]
    hybrid_run, t_search = timed(lambda: HybridRetriever(bm25, dense).search(queries, 100))
    runs["hybrid"] = (hybrid_run, {"search_s": t_search})

    per_query = {}
    for system, (run, timing) in runs.items():
        ev = evaluate_run(qrels, run)
        per_query[system] = ev.column("nDCG@10")
        low_high = EXPECTED.get((name, system))
        result["systems"][system] = {
            "metrics": ev.aggregate,
            "timing": {k: round(v, 3) for k, v in timing.items()},
            "expected_ndcg10": low_high,
            "within_expected": None if low_high is None else low_high[0] <= ev.aggregate["nDCG@10"] <= low_high[1],
        }
    for system in runs:
        if system == "bm25":
            continue
        test = paired_test(per_query["bm25"], per_query[system], "nDCG@10")
        result["systems"][system]["vs_bm25"] = {"delta": test.delta, "p_value": test.p_value}
    return result


def markdown(results: dict) -> str:
    lines = [
        "| dataset | system | nDCG@10 | R@10 | R@100 | MRR@10 | MAP@100 | expected nDCG@10 | vs BM25 (p) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, res in results.items():
        for system, r in res["systems"].items():
            m = r["metrics"]
            exp = r["expected_ndcg10"]
            exp_txt = "-" if exp is None else f"{exp[0]}-{exp[1]} {'ok' if r['within_expected'] else 'OFF'}"
            vs = r.get("vs_bm25")
            vs_txt = "-" if vs is None else f"{vs['delta']:+.4f} ({vs['p_value']:.3g})"
            lines.append(
                f"| {name} | {system} | {m['nDCG@10']:.4f} | {m['R@10']:.4f} | {m['R@100']:.4f} | "
                f"{m['RR@10']:.4f} | {m['AP@100']:.4f} | {exp_txt} | {vs_txt} |"
            )
    lines += [
        "",
        "| dataset | system | docs | encode cold (s) | docs/s | second run, cached (s) | BM25 index (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, res in results.items():
        b = res["systems"]["bm25"]["timing"]
        for system, r in res["systems"].items():
            if not system.startswith("dense"):
                continue
            d = r["timing"]
            lines.append(
                f"| {name} | {system} | {res['docs']} | {d['encode_cold_s']:.1f} | {d['encode_docs_per_s']:.1f} | "
                f"{d['index_warm_s']:.2f} | {b['index_s']:.2f} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["scifact", "nfcorpus", "cranfield"])
    parser.add_argument("--precisions", nargs="+", default=["fp32", "bf16"], choices=["fp32", "bf16"])
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    report = Report("zero_shot")
    report.data["settings"] = {"precisions": args.precisions, "batch_size": args.batch_size, "top_k": 100}
    results = report.data.setdefault("results", {})
    with tempfile.TemporaryDirectory(prefix="pseudorel-bench-") as cache:
        os.environ["PSEUDOREL_CACHE_DIR"] = cache  # cold start: nothing cached
        for name in args.datasets:
            results[name] = bench_dataset(name, args.precisions, args.batch_size)
            report.save(markdown(results))
    report.save(markdown(results), complete=True)
    print(markdown(results))


if __name__ == "__main__":
    main()
