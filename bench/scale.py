"""Scale-out on this machine: the label stage with the local and the Ray executor, approximate
indexes against exact search, and two-process (DDP) training.

    .venv/bin/python bench/scale.py [--repeats 3] [--only label ivf ddp]

1. Label stage (cheap teachers BM25 + all-MiniLM-L6-v2, candidate mining, corpus and query
   encoding) on SciFact's corpus with its train queries (unlabeled) and title/ICT synthetic
   queries: local executor, Ray with 1 and with 2 workers, each from empty caches; wall time
   (median of --repeats, executor start-up included), equality of the label tables, and the
   measured per-shard encoding cost that the projection table is computed from.
2. Indexes: IVF (and HNSW) recall@100 against exact inner-product search, and search speed,
   on SciFact's MiniLM embeddings (test queries) and on a synthetic clustered 1M x 384 index.
3. DDP: `torchrun --nproc_per_node 2 pseudorel train` (query tower) on the SciFact labels of
   step 1, one-minute budget: a model is written, by rank 0 only.

No qrels are read. Results: bench/results/scale.{json,md}, rewritten after each step.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _report import SHARED_DATA, Report

from pseudorel.data import load_beir
from pseudorel.data.beir import split_query_ids
from pseudorel.labels.pipeline import LabelSettings, label_pairs
from pseudorel.queries import Query, synthetic_queries
from pseudorel.retrieval.ann import IndexSettings, build_index

RETRIEVERS = ("bm25", "dense")
CONFIGS = (("local", None), ("ray", 1), ("ray", 2))
SYNTHETIC_N, SYNTHETIC_DIM, SYNTHETIC_QUERIES = 1_000_000, 384, 1000


def scifact_queries():
    folder = SHARED_DATA / "scifact"
    data = load_beir(folder, splits=[])
    unlabeled = [Query(q, data.queries[q]) for q in split_query_ids(folder, "train") if q in data.queries]
    return data.corpus, unlabeled + synthetic_queries(data.corpus, ("title", "ict"), seed=0)


@contextlib.contextmanager
def fresh_cache():
    """An empty embedding cache for the block (so every run encodes), the usual one after it."""
    saved = os.environ.get("PSEUDOREL_CACHE_DIR")
    with tempfile.TemporaryDirectory(prefix="scale-bench-") as tmp:
        os.environ["PSEUDOREL_CACHE_DIR"] = str(Path(tmp) / "cache")
        try:
            yield Path(tmp)
        finally:
            if saved is None:
                os.environ.pop("PSEUDOREL_CACHE_DIR", None)
            else:
                os.environ["PSEUDOREL_CACHE_DIR"] = saved


def label_once(corpus, queries, executor: str, workers: int | None) -> tuple[float, object, dict]:
    """One label stage from empty caches; (seconds, label table, per-stage notes)."""
    from pseudorel.scale import make_executor

    with fresh_cache() as tmp:
        start = time.perf_counter()
        with make_executor(executor, workers=workers) as runner:
            started = time.perf_counter() - start
            frame, _ = label_pairs(
                corpus, queries, LabelSettings(retrievers=RETRIEVERS), Path(tmp) / "w", progress=False, executor=runner
            )
        seconds = time.perf_counter() - start
    return seconds, frame, {"executor_start_s": round(started, 2)}


def same_labels(a, b) -> bool:
    import pandas as pd

    try:
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-6)
        return True
    except AssertionError as e:
        print(f"label tables differ: {str(e)[:500]}", flush=True)
        return False


def encoding_cost(corpus) -> dict:
    """Seconds per 512-text shard of corpus encoding in one process (both cores), measured."""
    from pseudorel.retrieval.dense import DenseRetriever

    with fresh_cache():
        start = time.perf_counter()
        DenseRetriever(corpus, progress=False)
        seconds = time.perf_counter() - start
    return {"documents": len(corpus), "seconds": round(seconds, 1), "docs_per_s": round(len(corpus) / seconds, 1)}


def bench_label(report: Report, repeats: int) -> None:
    corpus, queries = scifact_queries()
    runs: dict[str, list[float]] = {}
    tables, notes = {}, {}
    for repeat in range(repeats):
        for executor, workers in CONFIGS:
            name = executor if workers is None else f"{executor}_{workers}"
            seconds, frame, note = label_once(corpus, queries, executor, workers)
            runs.setdefault(name, []).append(round(seconds, 1))
            tables.setdefault(name, frame)
            notes[name] = note
            print(f"label stage {name} repeat {repeat}: {seconds:.1f} s", flush=True)
            report.data["label_stage"] = {
                "collection": "scifact",
                "documents": len(corpus),
                "queries": len(queries),
                "pairs": len(frame),
                "teachers": list(RETRIEVERS),
                "seconds": runs,
                "median_seconds": {k: statistics.median(v) for k, v in runs.items()},
                "executor_start_s": {k: v["executor_start_s"] for k, v in notes.items()},
            }
            report.save(render(report.data))
    stage = report.data["label_stage"]
    stage["equal_to_local"] = {k: same_labels(tables["local"], t) for k, t in tables.items() if k != "local"}
    stage["overhead_ratio"] = {
        k: round(v / stage["median_seconds"]["local"], 3) for k, v in stage["median_seconds"].items()
    }
    stage["encoding_cost"] = encoding_cost(corpus)
    report.save(render(report.data))


def clustered(n: int, dim: int, clusters: int, seed: int, spread: float = 0.6) -> np.ndarray:
    """Unit vectors around ``clusters`` random centres (a stand-in for topical text embeddings)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 100_000):
        stop = min(n, start + 100_000)
        block = centres[rng.integers(clusters, size=stop - start)]
        block += spread / np.sqrt(dim) * rng.standard_normal(block.shape, dtype=np.float32)
        out[start:stop] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def hierarchical(n: int, dim: int, topics: int, subtopics: int, seed: int) -> np.ndarray:
    """Unit vectors in a two-level hierarchy (topics, subtopics around them, documents around those),
    closer to text embeddings, whose neighbourhoods blend into each other, than tight separate clusters."""
    rng = np.random.default_rng(seed)

    def unit(x):
        return x / np.linalg.norm(x, axis=-1, keepdims=True)

    top = unit(rng.standard_normal((topics, dim), dtype=np.float32))
    spread = unit(rng.standard_normal((topics * subtopics, dim), dtype=np.float32))
    sub = unit(top[rng.integers(topics, size=topics * subtopics)] + 0.8 * spread)
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 100_000):
        stop = min(n, start + 100_000)
        noise = unit(rng.standard_normal((stop - start, dim), dtype=np.float32))
        out[start:stop] = unit(sub[rng.integers(len(sub), size=stop - start)] + 0.7 * noise)
    return out


def timed_search(index, queries: np.ndarray, k: int, repeats: int = 3) -> tuple[float, np.ndarray]:
    times, ids = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        _, ids = index.search(queries, k)
        times.append(time.perf_counter() - start)
    return statistics.median(times), ids


def recall_at(approx: np.ndarray, exact: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(e)) / len(e) for a, e in zip(approx, exact, strict=True)]))


def index_sweep(docs: np.ndarray, queries: np.ndarray, nprobes: list[int], hnsw: bool) -> dict:
    start = time.perf_counter()
    exact_index = build_index(docs)
    exact_s, exact_ids = timed_search(exact_index, queries, 100)
    out = {
        "documents": len(docs),
        "queries": len(queries),
        "exact_search_s": round(exact_s, 4),
        "ivf": [],
        "hnsw": None,
    }
    start = time.perf_counter()
    ivf = build_index(docs, IndexSettings(kind="ivf"))
    out["ivf_build_s"], out["nlist"] = round(time.perf_counter() - start, 1), ivf.nlist
    for nprobe in nprobes:
        ivf.nprobe = nprobe
        seconds, ids = timed_search(ivf, queries, 100)
        out["ivf"].append(
            {
                "nprobe": nprobe,
                "recall_at_100": round(recall_at(ids, exact_ids), 4),
                "search_s": round(seconds, 4),
                "speedup": round(exact_s / seconds, 2),
            }
        )
        print(f"ivf nprobe {nprobe}: {out['ivf'][-1]}", flush=True)
    if hnsw:
        start = time.perf_counter()
        graph = build_index(docs, IndexSettings(kind="hnsw"))
        build = time.perf_counter() - start
        seconds, ids = timed_search(graph, queries, 100)
        out["hnsw"] = {
            "build_s": round(build, 1),
            "recall_at_100": round(recall_at(ids, exact_ids), 4),
            "search_s": round(seconds, 4),
            "speedup": round(exact_s / seconds, 2),
        }
    return out


def bench_ivf(report: Report) -> None:
    from pseudorel.retrieval.dense import DenseRetriever

    folder = SHARED_DATA / "scifact"
    data = load_beir(folder, splits=["test"])
    retriever = DenseRetriever(data.corpus, progress=False)  # the persistent embedding cache
    docs = retriever.index.reconstruct_n(0, retriever.index.ntotal)
    test = data.split_queries("test")
    queries = retriever.encode(list(test.values()), task="query")
    report.data["index_scifact"] = index_sweep(docs, queries, [1, 2, 4, 8, 16, 32, 64], hnsw=True)
    report.save(render(report.data))
    variants = {
        "index_synthetic_1m": (
            lambda: hierarchical(SYNTHETIC_N + SYNTHETIC_QUERIES, SYNTHETIC_DIM, topics=500, subtopics=40, seed=0),
            "500 topic directions, 40 subtopics around each (noise 0.8), each vector a subtopic plus noise 0.7, "
            "all unit length in 384-d",
        ),
        "index_synthetic_1m_tight": (
            lambda: clustered(SYNTHETIC_N + SYNTHETIC_QUERIES, SYNTHETIC_DIM, clusters=20_000, seed=0),
            "20,000 random unit centres in 384-d, each vector a centre plus isotropic noise (spread 0.6): 50 "
            "vectors a cluster, so a query's neighbours past its own 50 are near-random (a hard case for IVF)",
        ),
    }
    for key, (make, description) in variants.items():
        if report.data.get(key, {}).get("distribution") == description:
            continue  # measured by an earlier run
        start = time.perf_counter()
        vectors = make()
        docs, queries = vectors[:SYNTHETIC_N], vectors[SYNTHETIC_N:]
        print(f"{key}: vectors in {time.perf_counter() - start:.1f} s", flush=True)
        sweep = index_sweep(docs, queries, [8, 16, 32, 64, 128], hnsw=False)
        sweep["distribution"] = description
        report.data[key] = sweep
        report.save(render(report.data))


def bench_ddp(report: Report) -> None:
    corpus, queries = scifact_queries()
    with tempfile.TemporaryDirectory(prefix="scale-ddp-") as tmp:
        frame, _ = label_pairs(corpus, queries, LabelSettings(retrievers=RETRIEVERS), Path(tmp) / "w", progress=False)
        labels = Path(tmp) / "labels.parquet"
        frame.to_parquet(labels)
        out = Path(tmp) / "model"
        command = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node",
            "2",
            "--master_addr",
            "127.0.0.1",
            "--master_port",
            "29577",
            "-m",
            "pseudorel",
            "train",
            "--labels",
            str(labels),
            "--dataset",
            str(SHARED_DATA / "scifact"),
            "--output",
            str(out),
            "--time-budget",
            "1",
        ]
        start = time.perf_counter()
        proc = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
        seconds = time.perf_counter() - start
        card = json.loads((out / "pseudorel.json").read_text()) if (out / "pseudorel.json").is_file() else {}
        report.data["ddp"] = {
            "command": "torchrun --nproc_per_node 2 -m pseudorel train --labels L --dataset scifact --time-budget 1",
            "returncode": proc.returncode,
            "seconds": round(seconds, 1),
            "processes": card.get("processes"),
            "steps_done": card.get("steps_done"),
            "rank1_left_writing_to_rank0": "rank 1 of 2: rank 0 saves the model" in proc.stderr,
            "stderr_tail": proc.stderr[-1500:] if proc.returncode else "",
        }
        shutil.rmtree(out, ignore_errors=True)
    report.save(render(report.data))


def projection(data: dict) -> list[dict]:
    """Label-stage encoding cost for 1M / 10M documents from the measured per-document cost."""
    cost = data.get("label_stage", {}).get("encoding_cost")
    if not cost:
        return []
    cpu_docs_per_s = cost["docs_per_s"]  # one process on this machine's 2 cores
    gpu_docs_per_s = 2000.0  # ASSUMED, not measured here: MiniLM-L6, 256-token passages, one data-centre GPU, bf16
    rows = []
    for documents in (1_000_000, 10_000_000):
        for kind, rate, counts in (("2-core CPU worker", cpu_docs_per_s, (1, 8, 64)), ("GPU", gpu_docs_per_s, (1, 8))):
            for n in counts:
                rows.append(
                    {
                        "documents": documents,
                        "workers": f"{n} x {kind}",
                        "hours": round(documents / (rate * n) / 3600, 2),
                    }
                )
    return rows


def render(data: dict) -> str:
    lines = []
    stage = data.get("label_stage")
    if stage:
        lines += [
            "## Label stage on SciFact (cheap teachers + mining + encoding)",
            "",
            f"{stage['documents']} documents, {stage['queries']} queries, {stage['pairs']} labelled pairs; "
            f"teachers {', '.join(stage['teachers'])}; from empty caches, executor start-up included.",
            "",
            "| executor | runs (s) | median (s) | vs local | same labels as local |",
            "|---|---|---|---|---|",
        ]
        for name, runs in stage["seconds"].items():
            ratio = stage.get("overhead_ratio", {}).get(name, "")
            same = "" if name == "local" else stage.get("equal_to_local", {}).get(name, "")
            lines.append(f"| {name} | {runs} | {stage['median_seconds'][name]} | {ratio} | {same} |")
        if "encoding_cost" in stage:
            c = stage["encoding_cost"]
            lines += [
                "",
                f"Corpus encoding alone (one process, 2 cores): {c['documents']} documents in {c['seconds']} s "
                f"= {c['docs_per_s']} documents/s.",
            ]
        lines.append("")
    for key, title in (
        ("index_scifact", "SciFact MiniLM embeddings, test queries"),
        ("index_synthetic_1m", "synthetic 1M x 384 vectors, topic hierarchy"),
        ("index_synthetic_1m_tight", "synthetic 1M x 384 vectors, 20,000 tight clusters"),
    ):
        sweep = data.get(key)
        if not sweep:
            continue
        lines += [
            f"## IVF against exact search: {title}",
            "",
            f"{sweep['documents']} vectors, {sweep['queries']} queries, exact search {sweep['exact_search_s']} s; "
            f"IVF nlist {sweep.get('nlist')} built in {sweep.get('ivf_build_s')} s."
            + (f" Distribution: {sweep['distribution']}." if "distribution" in sweep else ""),
            "",
            "| nprobe | recall@100 | search (s) | speedup |",
            "|---|---|---|---|",
        ]
        lines += [f"| {r['nprobe']} | {r['recall_at_100']} | {r['search_s']} | {r['speedup']} |" for r in sweep["ivf"]]
        if sweep.get("hnsw"):
            h = sweep["hnsw"]
            lines += [
                "",
                f"HNSW (M 32, efSearch 128): recall@100 {h['recall_at_100']}, search {h['search_s']} s, "
                f"speedup {h['speedup']}, built in {h['build_s']} s.",
            ]
        lines.append("")
    if data.get("ddp"):
        d = data["ddp"]
        lines += [
            "## Two-process training (DDP, gloo)",
            "",
            f"`{d['command']}`: exit {d['returncode']}, {d['seconds']} s, "
            f"processes {d['processes']}, steps {d['steps_done']}, rank 1 left writing to rank 0: "
            f"{d['rank1_left_writing_to_rank0']}.",
            "",
        ]
    rows = projection(data)
    if rows:
        lines += [
            "## Projection: corpus encoding for the label stage",
            "",
            "From the measured documents/s above (CPU); the GPU rate (2,000 passages/s per GPU for MiniLM at 256 "
            "tokens) is an assumption, not measured here. Corpus encoding is the part that grows with the corpus: "
            f"{data['label_stage']['encoding_cost']['seconds']} of the "
            f"{data['label_stage']['median_seconds']['local']} s "
            "of the local label stage here (the rest: encoding the short queries, BM25 search and mining, which grow "
            "with the queries). Perfect scaling over workers is assumed (the Ray overhead measured above, 2-3% with "
            "2 workers, is not included).",
            "",
            "| documents | workers | hours |",
            "|---|---|---|",
        ]
        lines += [f"| {r['documents']:,} | {r['workers']} | {r['hours']} |" for r in rows]
        lines.append("")
    if data.get("headline"):
        lines += ["## Headline", "", "```", json.dumps(data["headline"], indent=2), "```", ""]
    return "\n".join(lines)


def headline(data: dict) -> dict:
    stage, synthetic = data.get("label_stage", {}), data.get("index_synthetic_1m", {})
    good = [r for r in synthetic.get("ivf", []) if r["recall_at_100"] >= 0.95]
    best = (
        max(good, key=lambda r: r["speedup"])
        if good
        else max(synthetic.get("ivf", [{}]), key=lambda r: r.get("recall_at_100", 0))
    )
    return {
        "ray_matches_local": int(all(stage.get("equal_to_local", {"-": False}).values())),
        "ray_overhead_ratio": stage.get("overhead_ratio", {}).get("ray_2"),
        "ivf_recall_at_100": best.get("recall_at_100"),
        "ivf_speedup": best.get("speedup"),
        "ivf_nprobe": best.get("nprobe"),
        "ddp_two_process_ok": int(
            data.get("ddp", {}).get("returncode") == 0 and data.get("ddp", {}).get("processes") == 2
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", nargs="*", default=["label", "ivf", "ddp"])
    args = parser.parse_args()
    report = Report("scale", keep_previous=True)
    if "label" in args.only:
        bench_label(report, args.repeats)
    if "ivf" in args.only:
        bench_ivf(report)
    if "ddp" in args.only:
        bench_ddp(report)
    report.data["headline"] = headline(report.data)
    report.save(render(report.data), complete=True)


if __name__ == "__main__":
    main()
