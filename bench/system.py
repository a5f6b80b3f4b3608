"""The system `pseudorel adapt` ships, with its defaults, against the zero-shot baselines.

    .venv/bin/python bench/system.py [--datasets cranfield scifact nfcorpus]

Per collection: `adapt` with default settings (the train split's query texts as unlabeled
queries where the collection has one; no qrels read), then on the test queries (qrels read
here only, for the report): zero-shot BM25, dense and hybrid (the rank-fusion teacher's own
ranking), the adapted dense retriever alone and fused with BM25, the reranker forced onto the
system's first stage (what the guard would have shipped had it kept it), and the system
itself, each with a paired randomization p-value against the zero-shot hybrid; the guard's
decisions and the wall time of every stage. Each adapt run is cached under
bench/cache/system/<name> (resumes), results are rewritten after each collection.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _report import SHARED_DATA, Report, against_baseline

from pseudorel.adapt import AdaptSettings, adapt
from pseudorel.data import load_beir
from pseudorel.data.beir import available_splits, split_query_ids
from pseudorel.evaluation import evaluate_run
from pseudorel.labels.pipeline import LabelSettings
from pseudorel.labels.teacher_choice import AUTO, choose_teacher
from pseudorel.queries import Query
from pseudorel.retrieval.bm25 import BM25Retriever
from pseudorel.retrieval.dense import DenseRetriever
from pseudorel.retrieval.factory import dense_models, parse_spec
from pseudorel.retrieval.fusion import fuse, reciprocal_rank_fusion
from pseudorel.system import SearchSystem
from pseudorel.system.rerank import blend, cross_encoder_scores

CACHE = Path(__file__).parent / "cache" / "system"
FORCED_RERANK_DEPTH = 20


def adapt_collection(name: str, requested: tuple[str, ...]):
    """``adapt`` with its defaults (teacher ``requested``) on a collection, the train split's query
    texts as unlabeled queries; cached under bench/cache/system/<name>+<extra models>. Returns
    (run folder, settings, the teacher's retriever specs, the run report, minutes)."""
    folder = SHARED_DATA / name
    corpus_only = load_beir(folder, splits=[])
    train_ids = split_query_ids(folder, "train") if "train" in available_splits(folder) else []
    unlabeled = [Query(q, corpus_only.queries[q]) for q in train_ids if q in corpus_only.queries]
    start = time.perf_counter()
    settings = AdaptSettings(labels=LabelSettings(retrievers=requested))
    choice = choose_teacher(requested, len(corpus_only.corpus), len(unlabeled) + 2 * len(corpus_only.corpus))
    retrievers_spec = choice.retrievers
    suffix = "".join(f"+{parse_spec(s)[1]}" for s in retrievers_spec if parse_spec(s)[1])
    out = CACHE / (name + suffix)
    report = adapt(corpus_only.corpus, out, unlabeled, settings)
    return out, settings, retrievers_spec, report, (time.perf_counter() - start) / 60


def run_collection(name: str, requested: tuple[str, ...], default: bool) -> dict:
    folder = SHARED_DATA / name
    out, settings, retrievers_spec, report, adapt_minutes = adapt_collection(name, requested)

    test = load_beir(folder, splits=["test"])  # qrels: evaluation only, from here on
    queries, qrels = test.split_queries("test"), test.qrels["test"]
    start = time.perf_counter()
    teacher_models = dense_models(retrievers_spec)
    retrievers = {
        "bm25": BM25Retriever(test.corpus),
        **{m: DenseRetriever(test.corpus, m, progress=False) for m in {settings.base_model, *teacher_models}},
        "retriever": DenseRetriever(test.corpus, str(out / "retriever"), progress=False),
    }
    runs = {
        "bm25": retrievers["bm25"].search(queries, 100),
        "dense_zero_shot": retrievers[settings.base_model].search(queries, 100),
        "dense_adapted": retrievers["retriever"].search(queries, 100),
    }
    runs["hybrid_zero_shot"] = reciprocal_rank_fusion([runs["bm25"], runs["dense_zero_shot"]])
    runs["hybrid_adapted"] = reciprocal_rank_fusion([runs["bm25"], runs["dense_adapted"]])
    extra = [m for m in teacher_models if m != settings.base_model]
    for model in extra:
        runs[f"dense_{model}"] = retrievers[model].search(queries, 100)
        runs[f"hybrid_bm25_{model}"] = reciprocal_rank_fusion([runs["bm25"], runs[f"dense_{model}"]])
    # the teacher's own ranking: all its retrievers, fused as the teacher fuses them
    teacher_runs = [runs["bm25"], runs["dense_zero_shot"], *(runs[f"dense_{m}"] for m in extra)]
    runs["teacher_fusion"] = fuse(teacher_runs, settings.labels.mining.fusion)
    system = SearchSystem.load(out, retrievers=retrievers)
    runs["system"] = system.search(queries, 100)
    first = system.first_stage(queries, 100)
    runs["system_first_stage"] = first
    if (out / "reranker" / "config.json").is_file():  # adapt trains one only with a teacher that reads pairs
        ce = cross_encoder_scores(first, queries, test.corpus, str(out / "reranker"), FORCED_RERANK_DEPTH, False)
        runs[f"first_stage+reranker@{FORCED_RERANK_DEPTH}_forced"] = blend(first, ce, FORCED_RERANK_DEPTH)
    evaluations = {key: evaluate_run(qrels, run) for key, run in runs.items()}
    table = against_baseline(evaluations, "hybrid_zero_shot", "p_vs_hybrid_zero_shot")
    return {
        "key": name if default else f"{name}[{','.join(retrievers_spec)}]",
        "teacher_choice": report.teacher,
        "queries": report.queries,
        "held_out_queries": report.held_out_queries,
        "shipped": report.system.shipped,
        "dropped": report.system.dropped,
        "reranker_skipped": report.reranker_skipped,
        "refresh": report.refresh,
        "decisions": report.system.decisions,
        "seconds": {**report.seconds, "test_evaluation": round(time.perf_counter() - start, 1)},
        "adapt_minutes": round(adapt_minutes, 1),
        "test": table,
        "teacher": f"{settings.labels.mining.fusion} fusion of {', '.join(retrievers_spec)}: its test ranking is "
        "teacher_fusion",
    }


def markdown(results: dict) -> str:
    lines = []
    titles = {
        "headline": "Headline (adapt's defaults)",
        "headline_bm25_minilm_teacher": "Before: BM25 + MiniLM teacher",
    }
    for key, title in titles.items():
        if head := results.get(key, {}):
            lines += [f"## {title}", "", "| key | value |", "|---|---|"]
            lines += [f"| {k} | {v if isinstance(v, str) else round(v, 4)} |" for k, v in head.items()] + [""]
    for name, r in results.get("collections", {}).items():
        dropped = ", ".join(r["dropped"]) or "nothing"
        lines += [f"## {name}", "", f"Shipped: **{r['shipped']}**; dropped: {dropped}.", ""]
        if r.get("reranker_skipped"):
            lines += ["Reranker not trained: no teacher that reads the pairs labelled them.", ""]
        for refresh in r.get("refresh") or []:
            what = refresh.get("reason") or f"trained {refresh['retriever']}"
            lines += [f"Refresh round {refresh['round']}: {what}.", ""]
        lines += ["| run (test) | nDCG@10 | R@100 | p vs hybrid zero-shot |", "|---|---|---|---|"]
        for key, m in r["test"].items():
            lines.append(f"| {key} | {m['nDCG@10']:.4f} | {m['R@100']:.4f} | {m['p_vs_hybrid_zero_shot']:.3g} |")
        lines += ["", "Guard decisions (held-out pseudo-labels, no qrels):", ""]
        lines += [f"- {d['part']}: {d['candidate']} — {d['reason']}" for d in r["decisions"]]
        seconds = ", ".join(f"{k} {v} s" for k, v in r["seconds"].items())
        lines += ["", f"Wall time per stage: {seconds}; adapt {r['adapt_minutes']} min.", ""]
    return "\n".join(lines)


def headline(collections: dict) -> dict:
    head = {}
    for name in ("scifact", "nfcorpus", "cranfield"):
        if name not in collections:
            continue
        test = collections[name]["test"]
        head[f"{name}_system"] = test["system"]["nDCG@10"]
        head[f"{name}_hybrid_zero_shot"] = test["hybrid_zero_shot"]["nDCG@10"]
        head[f"{name}_reranker_gain"] = test["system"]["nDCG@10"] - test["system_first_stage"]["nDCG@10"]
    if "scifact" in collections:
        head["scifact_student_dense"] = collections["scifact"]["test"]["dense_adapted"]["nDCG@10"]
        head["scifact_adapt_minutes"] = collections["scifact"]["adapt_minutes"]
    return head


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", nargs="+", default=["cranfield", "scifact", "nfcorpus"])
    parser.add_argument(
        "--retrievers",
        default="auto",
        help="the teacher's retrievers (adapt's default: auto); other than the default, results "
        "are stored under <dataset>+<extra models> and leave the headline (adapt's defaults) alone",
    )
    args = parser.parse_args()
    specs = tuple(args.retrievers.split(","))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    report = Report("system", keep_previous=True)
    collections = report.data.setdefault("collections", {})
    for name in args.datasets:
        result = run_collection(name, specs, default=specs == (AUTO,))
        collections[result.pop("key")] = result
        report.data["headline"] = headline(collections)
        report.save(markdown(report.data))
    report.save(markdown(report.data), complete=True)


if __name__ == "__main__":
    main()
