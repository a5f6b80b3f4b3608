"""Sampled mode: the expensive teacher labels a fixed number of pairs, a student carries it to the
whole corpus, the guard ships it when it wins. Against the zero-shot baselines and the full teacher.

    .venv/bin/python bench/distill.py [--datasets scifact nfcorpus cranfield merged] [--teacher-pairs 10000]

Per collection (``merged``: the three corpora in one, about 10,200 documents, each collection's
test queries evaluated over it): ``adapt`` in sampled mode with a fixed pair budget (the train
split's query texts as unlabeled queries where the collection has one; no qrels read), then on
the test queries (qrels read here only): zero-shot BM25, MiniLM, nomic, the zero-shot hybrid
(BM25 + MiniLM, fused as the system fuses: min-max interpolation), the full teacher (BM25 +
MiniLM + nomic interpolated over the whole corpus: what full mode ships, the cost reference),
the student alone, BM25 + student, the late teacher (the hybrid's top 10 / 20 / 50 documents
read by nomic at search time and fused as the teacher fuses; 20 is what sampled mode offers),
the shipped system, each with a paired randomization p
against the hybrid; what the teacher read; each pass's documents/s (median of 3, on the same
sample of the corpus, in this run) and wall-time projections for 10^5 and 10^6 documents.
nomic's embeddings are cached per text, so the collections share one pass over their documents.
Runs are cached under bench/cache/distill/<name>; results are rewritten after each collection.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _corpora import MERGED, SINGLE, load_collection
from _report import Report, against_baseline

from pseudorel.adapt import AdaptSettings, adapt
from pseudorel.data.beir import available_splits, split_query_ids
from pseudorel.evaluation import evaluate_run
from pseudorel.labels.sampled import SAMPLED
from pseudorel.labels.teacher_choice import AUTO, STRONG_TEACHER, choose_teacher, measure_docs_per_second, speed_sample
from pseudorel.queries import Query
from pseudorel.retrieval.bm25 import BM25Retriever
from pseudorel.retrieval.dense import DenseRetriever
from pseudorel.retrieval.fusion import fuse
from pseudorel.system import SearchSystem, SystemSpec
from pseudorel.system.spec import FirstStage, LateStage

CACHE = Path(__file__).parent / "cache" / "distill"
DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
TEACHER = "nomic"
BASE = "all-MiniLM-L6-v2"
RATE_SAMPLE = 64
SCALES = (10**5, 10**6)
WORKERS = (4, 16)
LATE_DEPTHS = (10, 20, 50)  # 20: the default --late-depth
GPU_RATES = Path(__file__).parent / "results" / "gpu_rates.json"


def unlabeled_queries(name: str) -> list[Query]:
    """The train split's query texts (no judgments) where a collection has one; merged: all of them."""
    parts = SINGLE if name == MERGED else (name,)
    out = []
    for part in parts:
        folder = DATA / part
        if "train" not in available_splits(folder):
            continue
        texts = load_collection(part).queries
        prefix = f"{part}/" if name == MERGED else ""
        out += [Query(prefix + q, texts[q]) for q in split_query_ids(folder, "train") if q in texts]
    return out


def rates(corpus: dict, student: Path) -> dict:
    """Documents/s of the teacher, the base model and the student on one seeded sample of the
    corpus, each the median of 3 timed passes (no cache), in this process."""
    from pseudorel.retrieval.encoding import encode_texts
    from pseudorel.retrieval.models import load_bi_encoder

    ids = random.Random(0).sample(sorted(corpus), min(RATE_SAMPLE, len(corpus)))
    texts = [corpus[d].full_text for d in ids]
    out = {}
    for key, name in (("teacher", TEACHER), ("base", BASE), ("student", str(student))):
        model = load_bi_encoder(name)
        encode_texts(model, texts[:4], "rate", task="document", use_cache=False, progress=False)  # warm-up
        times = []
        for _ in range(3):
            start = time.perf_counter()
            encode_texts(model, texts, "rate", task="document", use_cache=False, progress=False)
            times.append(time.perf_counter() - start)
        out[f"{key}_docs_per_second"] = round(len(texts) / statistics.median(times), 2)
    return out


def auto_decisions(corpus: dict) -> dict:
    """What ``--teacher-mode auto`` decides here, from nomic's speed measured on this corpus, for
    this corpus's size and for 10^5 and 10^6 documents like it (two synthetic queries each)."""
    sample = speed_sample(corpus)
    out = {}
    for n in (len(corpus), *SCALES):
        choice = choose_teacher(
            STRONG_TEACHER, n, 2 * n, mode=AUTO, measure=lambda m: measure_docs_per_second(m, sample)
        )
        out[f"{n:,}"] = {"mode": choice.mode, **choice.estimates}
    return out


def projections(speed: dict, student_train_s: float, teacher_docs: int) -> dict:
    """Projected hours (from this run's rates; not measured) to build each system at 10^5 and
    10^6 documents: the full teacher's corpus pass, and sampled mode's passes (the teacher's
    fixed sample, the base model's and the student's corpus passes, the student's training);
    on this machine, on ``w`` Ray workers of its speed, and on one GPU (bench/gpu_rates)."""
    out = {}
    for n in SCALES:
        full = n / speed["teacher_docs_per_second"] + n / speed["base_docs_per_second"]
        corpus_passes = n / speed["base_docs_per_second"] + n / speed["student_docs_per_second"]
        fixed = teacher_docs / speed["teacher_docs_per_second"] + student_train_s
        row = {"full_teacher_h": round(full / 3600, 2), "sampled_h": round((fixed + corpus_passes) / 3600, 2)}
        for w in WORKERS:  # the corpus passes split across w Ray workers of this machine's speed
            row[f"full_teacher_{w}_workers_h"] = round(full / w / 3600, 2)
            row[f"sampled_{w}_workers_h"] = round((fixed + corpus_passes / w) / 3600, 2)
        if GPU_RATES.is_file():  # bench/gpu_rates.py: an H200's documents/s (random weights, speed only)
            gpu = json.loads(GPU_RATES.read_text())
            teacher_gpu, base_gpu = gpu["nomic_docs_per_second_512_tokens"], gpu["minilm_docs_per_second_256_tokens"]
            row["full_teacher_gpu_h"] = round((n / teacher_gpu + n / base_gpu) / 3600, 3)
            # the student's training stays as measured here (CPU): an upper bound
            gpu_fixed = teacher_docs / teacher_gpu + student_train_s
            row["sampled_gpu_h"] = round((gpu_fixed + 2 * n / base_gpu) / 3600, 3)
        out[f"{n:.0e}"] = row
    return out


def run_collection(name: str, teacher_pairs: int, student_kind: str = "query") -> dict:
    data = load_collection(name)
    unlabeled = unlabeled_queries(name)
    settings = AdaptSettings(student_kind=student_kind)
    settings = replace(
        settings,
        labels=replace(settings.labels, teacher_mode=SAMPLED, teacher_pairs=teacher_pairs),
    )
    out = CACHE / (name if student_kind == "query" else f"{name}-{student_kind}")
    start = time.perf_counter()
    report = adapt(data.corpus, out, unlabeled, settings)  # no evaluation here: no qrels reach adapt
    adapt_s = time.perf_counter() - start
    speed = rates(data.corpus, out / "student")
    auto = auto_decisions(data.corpus)

    queries, qrels = data.split_queries("test"), data.qrels["test"]  # qrels: evaluation only, from here on
    start = time.perf_counter()
    retrievers = {
        "bm25": BM25Retriever(data.corpus),
        BASE: DenseRetriever(data.corpus, BASE, progress=False),
        TEACHER: DenseRetriever(data.corpus, TEACHER, progress=False),
        "student": DenseRetriever(data.corpus, str(out / "student"), progress=False),
    }
    runs = {
        "bm25": retrievers["bm25"].search(queries, 100),
        "minilm": retrievers[BASE].search(queries, 100),
        "nomic": retrievers[TEACHER].search(queries, 100),
        "student": retrievers["student"].search(queries, 100),
    }
    fusion = settings.labels.mining.fusion
    runs["hybrid_zero_shot"] = fuse([runs["bm25"], runs["minilm"]], fusion)
    runs["hybrid_zero_shot_rrf"] = fuse([runs["bm25"], runs["minilm"]], "rrf")
    runs["teacher_full"] = fuse([runs["bm25"], runs["minilm"], runs["nomic"]], fusion)
    runs["bm25_student"] = fuse([runs["bm25"], runs["student"]], fusion)
    runs["bm25_minilm_student"] = fuse([runs["bm25"], runs["minilm"], runs["student"]], fusion)
    late_reads = {}
    for depth in LATE_DEPTHS:
        spec = SystemSpec(FirstStage((BASE,), fusion), late=LateStage(TEACHER, depth))
        late = SearchSystem(spec, data.corpus, retrievers=retrievers)
        runs[f"late_teacher_{depth}"] = late.search(queries, 100)
        late_reads[depth] = {
            "documents_read": late.late_stats["documents"],
            "share_of_corpus": round(late.late_stats["documents"] / len(data.corpus), 3),
            # one query's cost when none of its documents is cached: from the teacher's rate measured above
            "cold_query_s_projected": round(depth / speed["teacher_docs_per_second"], 1),
        }
    runs["system"] = SearchSystem.load(out, retrievers=retrievers).search(queries, 100)
    evaluations = {key: evaluate_run(qrels, run) for key, run in runs.items()}
    table = against_baseline(evaluations, "hybrid_zero_shot", "p_vs_hybrid_zero_shot")
    per_part = {}
    if name == MERGED:  # each collection's test queries over the merged corpus
        for part in SINGLE:
            ids = [q for q in queries if q.startswith(f"{part}/")]
            per_part[part] = {
                key: round(sum(evaluations[key].column("nDCG@10")[q] for q in ids) / len(ids), 4)
                for key in ("hybrid_zero_shot", "teacher_full", "bm25_student", "late_teacher_20", "system")
            }
    teacher_pass = report.teacher_pass
    student = report.student
    # the student's training time as its card records it (a rerun reuses the finished student)
    train_s = json.loads((out / "student" / "pseudorel.json").read_text()).get("train_seconds") or 0.0
    return {
        "documents": len(data.corpus),
        "teacher_choice": report.teacher,
        "teacher_pass": teacher_pass,
        "student": student,
        "queries": report.queries,
        "held_out_queries": report.held_out_queries,
        "shipped": report.system.shipped,
        "student_shipped": "student" in report.system.shipped,
        "late_teacher_shipped": SystemSpec.load(out).late is not None,
        "late_teacher_reads": late_reads,
        "dropped": report.system.dropped,
        "decisions": report.system.decisions,
        "seconds": {
            **report.seconds,
            "adapt": round(adapt_s, 1),
            "test_evaluation": round(time.perf_counter() - start, 1),
        },
        "speed": speed,
        "auto_mode": auto,
        "projections": projections(speed, train_s, (teacher_pass or {}).get("documents_read", 0)),
        "test": table,
        "merged_per_collection": per_part,
    }


def headline(collections: dict, teacher_pairs: int) -> dict:
    head: dict = {}
    gaps, student_gaps = [], []
    for name, r in collections.items():
        t = r["test"]
        head[f"{name}_student_system"] = round(t["system"]["nDCG@10"], 4)
        head[f"{name}_hybrid_zero_shot"] = round(t["hybrid_zero_shot"]["nDCG@10"], 4)
        head[f"{name}_teacher_full"] = round(t["teacher_full"]["nDCG@10"], 4)
        hybrid = t["hybrid_zero_shot"]["nDCG@10"]
        gap = t["teacher_full"]["nDCG@10"] - hybrid
        if gap > 0:
            gaps.append((t["system"]["nDCG@10"] - hybrid) / gap)
            student_gaps.append((t["bm25_student"]["nDCG@10"] - hybrid) / gap)
    speedups = [
        r["speed"]["student_docs_per_second"] / r["speed"]["teacher_docs_per_second"] for r in collections.values()
    ]
    head["gap_recovered"] = round(sum(gaps) / len(gaps), 3) if gaps else None
    # the same for BM25 + student alone (the student's share, whatever shipped)
    head["gap_recovered_bm25_student"] = round(sum(student_gaps) / len(student_gaps), 3) if student_gaps else None
    head["teacher_pairs"] = teacher_pairs  # the budget, the same on every collection
    # pairs read: the budget less the part of a query's candidates that did not fit whole
    head["teacher_pairs_used"] = {n: (r["teacher_pass"] or {}).get("pairs") for n, r in collections.items()}
    head["encode_speedup"] = round(statistics.median(speedups), 1) if speedups else None
    head["student_shipped_sets"] = sum(r["student_shipped"] for r in collections.values())
    # not a student: the expensive teacher itself, read at search time on the hybrid's top documents
    head["late_teacher_shipped_sets"] = sum(r.get("late_teacher_shipped", False) for r in collections.values())
    return head


def markdown(results: dict) -> str:
    lines = ["## Headline", "", "| key | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in results.get("headline", {}).items()] + [""]
    for name, r in results.get("collections", {}).items():
        tp = r["teacher_pass"] or {}
        nomic = tp.get("dense_nomic", {})
        lines += [
            f"## {name} ({r['documents']:,} documents)",
            "",
            f"Shipped: **{r['shipped']}**; dropped: {', '.join(r['dropped']) or 'nothing'}.",
            "",
            f"Teacher read {tp.get('pairs')} pairs of {tp.get('queries')} queries: "
            f"{tp.get('documents_read')} documents "
            f"({nomic.get('encoded')} encoded in this run, the rest from the per-text cache). Student distilled from "
            f"{r['student']['queries']} queries and {r['student']['documents']} documents.",
            "",
            "| run (test) | nDCG@10 | R@100 | p vs hybrid zero-shot |",
            "|---|---|---|---|",
        ]
        for key, m in r["test"].items():
            lines.append(f"| {key} | {m['nDCG@10']:.4f} | {m['R@100']:.4f} | {m['p_vs_hybrid_zero_shot']:.3g} |")
        if r.get("merged_per_collection"):
            lines += ["", "Each collection's test queries over the merged corpus (nDCG@10):", ""]
            lines += [
                "| collection | hybrid | teacher full | BM25 + student | late teacher (top 20) | system |",
                "|---|---|---|---|---|---|",
            ]
            for part, v in r["merged_per_collection"].items():
                lines.append(
                    f"| {part} | {v['hybrid_zero_shot']} | {v['teacher_full']} | {v['bm25_student']} "
                    f"| {v['late_teacher_20']} | {v['system']} |"
                )
        if r.get("late_teacher_reads"):
            reads = "; ".join(
                f"top {depth}: {v['documents_read']:,} documents ({v['share_of_corpus']:.0%} of the corpus), "
                f"about {v['cold_query_s_projected']} s for a query none of whose documents is cached"
                for depth, v in r["late_teacher_reads"].items()
            )
            lines += ["", f"What the late teacher read for these test queries: {reads}."]
        s = r["speed"]
        lines += [
            "",
            f"Documents/s (median of 3, same {RATE_SAMPLE}-document sample, this run): teacher "
            f"{s['teacher_docs_per_second']}, MiniLM {s['base_docs_per_second']}, "
            f"student {s['student_docs_per_second']}.",
            "",
            "Projected wall time in hours (from these rates, not measured; Ray workers of this machine's speed):",
            "",
            "| documents | " + " | ".join(next(iter(r["projections"].values())).keys()) + " |",
            "|---" * (1 + len(next(iter(r["projections"].values())))) + "|",
        ]
        for n, row in r["projections"].items():
            lines.append(f"| {n} | " + " | ".join(str(v) for v in row.values()) + " |")
        auto = ", ".join(
            f"{n} documents: {a['mode']} (full pass about {a['full_pass_s'] / 60:.0f} min)"
            for n, a in r.get("auto_mode", {}).items()
        )
        lines += ["", f"`--teacher-mode auto` here, from nomic's speed measured on this corpus: {auto}."]
        lines += ["", "Guard decisions (held-out labels of the full teacher, no qrels):", ""]
        lines += [f"- {d['part']}: {d['candidate']} — {d['reason']}" for d in r["decisions"]]
        seconds = ", ".join(f"{k} {v} s" for k, v in r["seconds"].items())
        lines += ["", f"Wall time per stage: {seconds}.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", nargs="+", default=[*SINGLE, MERGED])
    parser.add_argument("--teacher-pairs", type=int, default=10_000)
    parser.add_argument("--student-kind", default="query", help="query (the default student) or embedding")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    report = Report("distill" if args.student_kind == "query" else f"distill_{args.student_kind}")
    report.data = {"collections": {}}
    for name in args.datasets:
        report.data["collections"][name] = run_collection(name, args.teacher_pairs, args.student_kind)
        report.data["headline"] = headline(report.data["collections"], args.teacher_pairs)
        report.save(markdown(report.data))
    report.save(markdown(report.data), complete=True)


if __name__ == "__main__":
    main()
