"""What a search costs with sampled mode's late stage: each query's wall time, first from empty
caches (nomic reads the query's top 20 documents) and then again (read from the cache), against
the hybrid without it. Measured, not projected: bench/distill.py only divides the depth by nomic's rate.

    .venv/bin/python bench/late_latency.py [--datasets cranfield nfcorpus] [--queries 10]

Per collection: the system `bench/distill.py` shipped (bench/cache/distill/<name>, which must
exist), loaded with the per-text embedding cache in a fresh temporary folder (models, exports
and the backend choice stay cached, as on a machine that ran `adapt`); the corpus is indexed (BM25, MiniLM's
pass) and each model warmed on one query that is not timed; then the first ``--queries`` test
queries one at a time (as a service receives them): the hybrid alone, the whole system cold,
the whole system again. Medians and the documents nomic read. Also, for every test query, how
many of its top 20 the teacher had already read at adapt time (on the machine that ran `adapt`,
those are in the cache, so a first search waits only for the rest).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _corpora import load_collection
from _report import Report

CACHE = Path(__file__).parent / "cache" / "distill"


def timed_searches(system, queries: dict[str, str]) -> list[float]:
    times = []
    for qid, text in queries.items():
        start = time.perf_counter()
        system.search({qid: text}, 10)
        times.append(time.perf_counter() - start)
    return times


def run_collection(name: str, n: int) -> dict:
    from pseudorel.system import SearchSystem, SystemSpec

    folder = CACHE / name
    data = load_collection(name)
    system = SearchSystem.load(folder)
    if system.spec.late is None:
        raise SystemExit(f"{folder}: the shipped system has no late stage")
    test = data.split_queries("test")
    warm_up, *chosen = list(test)[: n + 1]
    start = time.perf_counter()
    system.search({warm_up: test[warm_up]}, 10)  # index the corpus, load nomic; not timed as a search
    setup_s = time.perf_counter() - start
    shared = {name: system.retriever(name) for name in ("bm25", *system.spec.first_stage.dense)}
    hybrid = SearchSystem(SystemSpec(system.spec.first_stage), system.corpus, retrievers=shared)
    out = {"after_adapt": already_read(folder, hybrid, test, system.spec.late.depth)}
    queries = {q: test[q] for q in chosen}
    before = dict(system.late_stats)
    out |= {
        "queries": len(queries),
        "setup_s": round(setup_s, 1),
        "hybrid_s": timed_searches(hybrid, queries),
        "late_cold_s": timed_searches(system, queries),
    }
    out["nomic_documents_read_cold"] = system.late_stats["documents"] - before["documents"]
    out["nomic_documents_encoded_cold"] = system.late_stats["encoded"] - before["encoded"]
    out["late_warm_s"] = timed_searches(system, queries)
    for key in ("hybrid_s", "late_cold_s", "late_warm_s"):
        out[f"{key.removesuffix('_s')}_median_s"] = round(statistics.median(out[key]), 2)
        out[key] = [round(t, 2) for t in out[key]]
    out["late_depth"] = system.spec.late.depth
    return out


def already_read(folder: Path, hybrid, test: dict[str, str], depth: int) -> dict:
    """On the machine that ran `adapt`: of the documents each test query's late stage needs (the
    first stage's top ``depth``), how many the teacher read at adapt time (its labelled pairs), each
    query counted alone (a search served earlier would have read more)."""
    import pandas as pd

    read = set(pd.read_parquet(folder / "labels.parquet", columns=["doc_id"])["doc_id"])
    unread = [sum(d not in read for d in list(docs)[:depth]) for docs in hybrid.search(test, depth).values()]
    return {
        "test_queries": len(unread),
        "teacher_read_documents": len(read),
        "unread_median": statistics.median(unread),
        "unread_mean": round(statistics.mean(unread), 2),
        "share_fully_read": round(sum(u == 0 for u in unread) / len(unread), 3),
    }


def markdown(data: dict) -> str:
    lines = [
        "| collection | queries | hybrid, median s | late stage cold, median s | late stage cached, median s "
        "| nomic encoded (cold) | set-up s |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in data["collections"].items():
        lines.append(
            f"| {name} | {r['queries']} | {r['hybrid_median_s']} | {r['late_cold_median_s']} | "
            f"{r['late_warm_median_s']} | {r['nomic_documents_encoded_cold']} | {r['setup_s']} |"
        )
    lines += [
        "",
        "On the machine that ran `adapt` (its embedding cache holds what the teacher read), each test query alone:",
        "",
        "| collection | test queries | documents the teacher read at adapt time | of a query's top 20 not yet read, "
        "median / mean | queries whose top 20 were all read |",
        "|---|---|---|---|---|",
    ]
    for name, r in data["collections"].items():
        a = r["after_adapt"]
        lines.append(
            f"| {name} | {a['test_queries']} | {a['teacher_read_documents']} | {a['unread_median']} / "
            f"{a['unread_mean']} | {a['share_fully_read']:.0%} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", nargs="+", default=["cranfield", "nfcorpus"])
    parser.add_argument("--queries", type=int, default=10)
    args = parser.parse_args()
    report = Report("late_latency")
    report.data = {"collections": {}}
    import pseudorel.retrieval.embedding_store as store

    with tempfile.TemporaryDirectory() as cache:
        store.embedding_cache_dir = lambda: Path(cache)  # every text's embedding from empty: nomic reads for real
        for name in args.datasets:
            report.data["collections"][name] = run_collection(name, args.queries)
            report.save(markdown(report.data))
    report.save(markdown(report.data), complete=True)


if __name__ == "__main__":
    main()
