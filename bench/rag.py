"""RAG on SciFact claim verification with the local 1.5B GGUF model: does retrieval, and a better
retriever, make the application better? And can the LLM's own confidence skip retrieval?

    .venv/bin/python bench/rag.py [--sample 60] [--calibration 30] [--utility-claims 30]

1. Same LLM (Qwen2.5-Coder-1.5B-Instruct Q4_K_M via xllamacpp), same prompt, same seeded sample
   of test claims: closed book, BM25, zero-shot dense (MiniLM), zero-shot hybrid, the system
   `adapt` shipped for SciFact (bench/cache/system/scifact+nomic, from bench/system.py) and an
   oracle (the gold evidence documents; for NEI claims the cited ones), k = 3 documents each.
   Verdict accuracy, macro-F1, evidence recall@3, paired randomization p between retrievers.
2. Uncertainty gate: the threshold set without labels on unlabelled train claims (answered
   closed book and with the system), then applied to the test sample.
3. Utility labels (reads train verdicts, like a supervised run): train claims' hybrid top-4, each
   document given alone; a MiniLM reranker trained on them and one trained on the relevance
   pseudo-labels of the same pairs (the cheap teachers BM25 + MiniLM); test nDCG@10 reranking
   the hybrid top-20 on all test claims, and verdict accuracy with each reranker's top-3.

Every LLM answer is cached (bench/cache/rag/llm.sqlite): a rerun resumes. Test qrels and
verdicts are read only to score. Results: bench/results/rag.{json,md}, rewritten after each step.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _report import SHARED_DATA, Report

from pseudorel.data import load_beir
from pseudorel.data.beir import split_query_ids
from pseudorel.evaluation import evaluate_run, paired_test
from pseudorel.llm.factory import make_backend
from pseudorel.rag.answer import Answerer, RagSettings
from pseudorel.rag.claims import read_claim_labels
from pseudorel.rag.evaluate import correctness, evidence_recall, verdict_metrics
from pseudorel.rag.gate import choose_threshold, gated
from pseudorel.rag.pipeline import answer_with_documents, seeded_sample, top_documents
from pseudorel.retrieval.factory import build_retriever

FOLDER = SHARED_DATA / "scifact"
CACHE = Path(__file__).parent / "cache" / "rag"
SYSTEM = Path(__file__).parent / "cache" / "system" / "scifact+nomic"
LLM = "gguf:qwen2.5-coder-1.5b"
K = 3


def load():
    data = load_beir(FOLDER, splits=["test"])
    labels = read_claim_labels(FOLDER / "queries.jsonl")
    test_ids = [q for q in split_query_ids(FOLDER, "test") if q in labels]
    train_ids = [q for q in split_query_ids(FOLDER, "train") if q in labels]
    return data, labels, test_ids, train_ids


def retrieval_runs(data, queries: dict[str, str]) -> dict:
    from pseudorel.system import SearchSystem

    runs = {
        name: build_retriever(spec, data.corpus).search(queries, 100)
        for name, spec in (("bm25", "bm25"), ("dense", "dense"), ("hybrid", "hybrid"))
    }
    runs["system"] = SearchSystem.load(SYSTEM).search(queries, 100)
    return runs


def oracle_documents(labels, qrels, ids: list[str]) -> dict[str, list[str]]:
    """Gold evidence documents (for an NEI claim, the documents it cites), at most K."""
    return {q: (list(labels[q].evidence) or sorted(qrels.get(q, {})))[:K] for q in ids}


def answer_rows(answerer, questions, documents, corpus, labels) -> tuple[list, dict]:
    start = time.perf_counter()
    answers = answer_with_documents(answerer, questions, documents, corpus)
    metrics = verdict_metrics(answers, labels)
    metrics["seconds"] = round(time.perf_counter() - start, 1)
    if documents is not None:
        metrics["evidence_recall_at_3"] = evidence_recall(documents, labels, K)
    return answers, metrics


def bench_retrievers(report, answerer, data, labels, test_ids, sample: int) -> dict:
    ids = seeded_sample(test_ids, sample, seed=0)
    questions = {q: data.queries[q] for q in ids}
    all_test = {q: data.queries[q] for q in test_ids}
    runs = retrieval_runs(data, all_test)
    qrels = data.qrels["test"]
    report.data["retrieval_ndcg10_all_test"] = {n: evaluate_run(qrels, r).aggregate["nDCG@10"] for n, r in runs.items()}
    conditions = {"no_retrieval": None, "oracle": oracle_documents(labels, qrels, ids)}
    conditions |= {name: top_documents({q: run[q] for q in ids if q in run}, K) for name, run in runs.items()}
    answers, table = {}, {}
    for name in ("no_retrieval", "bm25", "dense", "hybrid", "system", "oracle"):
        answers[name], table[name] = answer_rows(answerer, questions, conditions[name], data.corpus, labels)
        print(f"{name}: {table[name]}", flush=True)
        report.data["downstream"] = {
            "sample": len(ids),
            "k": K,
            "verdicts": {v: sum(labels[q].verdict == v for q in ids) for v in ("SUPPORT", "CONTRADICT", "NEI")},
            "table": table,
        }
        report.save(render(report.data))
    right = {name: correctness(a, labels) for name, a in answers.items()}
    report.data["downstream"]["paired_p"] = {
        f"{a} vs {b}": paired_test(right[a], right[b], "accuracy").p_value
        for a, b in (
            ("bm25", "system"),
            ("hybrid", "system"),
            ("no_retrieval", "bm25"),
            ("bm25", "oracle"),
            ("dense", "system"),
        )
    }
    report.save(render(report.data))
    return {"ids": ids, "answers": answers, "documents": conditions}


def bench_gate(report, answerer, data, labels, train_ids, test, calibration: int) -> None:
    from pseudorel.system import SearchSystem

    calib_ids = seeded_sample(train_ids, calibration, seed=1)
    calib = {q: data.queries[q] for q in calib_ids}
    calib_docs = top_documents(SearchSystem.load(SYSTEM).search(calib, 100), K)
    closed_calib = answer_with_documents(answerer, calib, None, data.corpus)
    open_calib = answer_with_documents(answerer, calib, calib_docs, data.corpus)
    choice = choose_threshold(closed_calib, open_calib, max_disagreement=0.01)
    closed, opened = test["answers"]["no_retrieval"], test["answers"]["system"]
    answers, saved = gated(closed, opened, choice.threshold)
    always = verdict_metrics(opened, labels)["accuracy"]
    sweep = []
    for threshold in (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98, 0.99, 1.01):
        swept, share = gated(closed, opened, threshold)
        sweep.append(
            {
                "threshold": threshold,
                "retrieval_calls_saved": round(share, 3),
                "accuracy": round(verdict_metrics(swept, labels)["accuracy"], 4),
            }
        )
    report.data["gate"] = {
        "calibration_claims": len(calib_ids),
        "chosen": choice.as_dict(),
        "retrieval_calls_saved": saved,
        "accuracy_always_retrieve": always,
        "accuracy_gated": verdict_metrics(answers, labels)["accuracy"],
        "accuracy_lost_when_gated": always - verdict_metrics(answers, labels)["accuracy"],
        "sweep_on_test": sweep,
    }
    report.save(render(report.data))


def bench_utility(report, answerer, data, labels, train_ids, test, claims: int) -> None:
    from pseudorel.labels.pipeline import LabelSettings, label_pairs
    from pseudorel.queries import Query
    from pseudorel.rag.utility import utility_labels
    from pseudorel.system.rerank import blend, cross_encoder_scores
    from pseudorel.training.cross_encoder import CrossTrainSettings, train_cross_encoder

    usable = [q for q in train_ids if labels[q].verdict != "NEI"]
    ids = seeded_sample(usable, claims, seed=2)
    questions = {q: data.queries[q] for q in ids}
    candidates = top_documents(build_retriever("hybrid", data.corpus).search(questions, 100), 4)
    start = time.perf_counter()
    utility = utility_labels(answerer, questions, labels, candidates, data.corpus)
    utility_seconds = time.perf_counter() - start
    relevance, _ = label_pairs(
        data.corpus,
        [Query(q, t) for q, t in questions.items()],
        LabelSettings(retrievers=("bm25", "dense")),
        CACHE / "relevance-work",
        progress=False,
    )
    merged = utility.merge(
        relevance[["query_id", "doc_id", "label"]].rename(columns={"label": "relevance"}),
        on=["query_id", "doc_id"],
        how="inner",
    )
    tables = {
        "utility": merged.assign(label=merged["label"]),
        "relevance": merged.assign(label=merged["relevance"]),
    }
    all_test = {q: data.queries[q] for q in data.split_queries("test")}
    first = build_retriever("hybrid", data.corpus).search(all_test, 100)
    qrels = data.qrels["test"]
    rows = {"hybrid (no reranker)": {"ndcg10": evaluate_run(qrels, first).aggregate["nDCG@10"]}}
    ids_test = test["ids"]
    for name, table in tables.items():
        folder = CACHE / f"reranker-{name}"
        train_cross_encoder(
            "all-MiniLM-L6-v2",
            table,
            data.corpus,
            folder,
            CrossTrainSettings(loss="distill", epochs=2),
            card={"labels": f"{name} (utility labels read train verdicts)" if name == "utility" else name},
        )
        scores = cross_encoder_scores(first, all_test, data.corpus, str(folder), 20, False)
        reranked = blend(first, scores, 20)
        top3 = top_documents({q: reranked[q] for q in ids_test}, K)
        questions_test = {q: data.queries[q] for q in ids_test}
        _, metrics = answer_rows(answerer, questions_test, top3, data.corpus, labels)
        rows[f"hybrid + reranker on {name} labels"] = {
            "ndcg10": evaluate_run(qrels, reranked).aggregate["nDCG@10"],
            "verdict_accuracy": metrics["accuracy"],
        }
        print(name, rows[f"hybrid + reranker on {name} labels"], flush=True)
    report.data["utility"] = {
        "train_claims": len(ids),
        "pairs": len(merged),
        "llm_seconds": round(utility_seconds, 1),
        "utility_label_mean": round(float(merged["label"].mean()), 4),
        "spearman_utility_vs_relevance": round(float(merged[["label", "relevance"]].corr("spearman").iloc[0, 1]), 4),
        "evidence_share_among_useful": round(float(merged.loc[merged["correct"], "is_evidence"].mean()), 4)
        if merged["correct"].any()
        else None,
        "rows": rows,
        "note": "utility labels read the train claims' verdicts (like a supervised run); relevance labels read none",
    }
    report.save(render(report.data))


def _number(value) -> str:
    return "" if value is None else f"{value:.4f}"


def render(data: dict) -> str:
    lines = []
    down = data.get("downstream")
    if down:
        lines += [
            "## SciFact claim verification, same LLM, same prompt, same sample",
            "",
            f"{down['sample']} test claims (seed 0; {down['verdicts']}), k = {down['k']} documents, "
            "Qwen2.5-Coder-1.5B-Instruct Q4_K_M (xllamacpp, 2 cores).",
            "",
            "| retriever | verdict accuracy | macro-F1 | evidence recall@3 | nDCG@10 (all 300 test) | LLM s |",
            "|---|---|---|---|---|---|",
        ]
        ndcg = data.get("retrieval_ndcg10_all_test", {})
        for name, m in down["table"].items():
            recall = m.get("evidence_recall_at_3")
            lines.append(
                f"| {name} | {m['accuracy']:.3f} | {m['macro_f1']:.3f} | "
                f"{'' if recall is None else f'{recall:.3f}'} | {_number(ndcg.get(name))} "
                f"| {m['seconds']} |"
            )
        if "paired_p" in down:
            lines += [
                "",
                "Paired randomization p on per-claim correctness: "
                + ", ".join(f"{k}: {v:.3f}" for k, v in down["paired_p"].items())
                + ".",
            ]
        lines.append("")
    gate = data.get("gate")
    if gate:
        c = gate["chosen"]
        lines += [
            "## Uncertainty-gated retrieval (system retriever)",
            "",
            f"Threshold chosen label-free on {gate['calibration_claims']} unlabelled train claims: "
            f"{c['threshold']} (would skip {c['saved']:.0%} of them, changing {c['disagreement']:.0%}). On the "
            f"test sample: {gate['retrieval_calls_saved']:.0%} retrieval calls saved, accuracy "
            f"{gate['accuracy_gated']:.3f} vs {gate['accuracy_always_retrieve']:.3f} always retrieving.",
            "",
            "| threshold | calls saved | accuracy |",
            "|---|---|---|",
        ]
        lines += [
            f"| {r['threshold']} | {r['retrieval_calls_saved']} | {r['accuracy']} |" for r in gate["sweep_on_test"]
        ]
        lines.append("")
    util = data.get("utility")
    if util:
        lines += [
            "## Utility labels vs relevance pseudo-labels (train claims; utility reads train verdicts)",
            "",
            f"{util['train_claims']} train claims, {util['pairs']} pairs, {util['llm_seconds']} s of LLM; "
            f"Spearman(utility, relevance) {util['spearman_utility_vs_relevance']}.",
            "",
            "| reranker | test nDCG@10 | verdict accuracy (sample) |",
            "|---|---|---|",
        ]
        for name, r in util["rows"].items():
            acc = r.get("verdict_accuracy")
            lines.append(f"| {name} | {r['ndcg10']:.4f} | {'' if acc is None else f'{acc:.3f}'} |")
        lines.append("")
    if data.get("headline"):
        lines += ["## Headline", "", "```", json.dumps(data["headline"], indent=2), "```", ""]
    return "\n".join(lines)


def headline(data: dict) -> dict:
    table = data.get("downstream", {}).get("table", {})
    gate, util = data.get("gate", {}), data.get("utility", {}).get("rows", {})
    utility_ndcg = util.get("hybrid + reranker on utility labels", {}).get("ndcg10")
    relevance_ndcg = util.get("hybrid + reranker on relevance labels", {}).get("ndcg10")
    return {
        "verdict_acc_bm25": table.get("bm25", {}).get("accuracy"),
        "verdict_acc_hybrid": table.get("hybrid", {}).get("accuracy"),
        "verdict_acc_system": table.get("system", {}).get("accuracy"),
        "verdict_acc_oracle": table.get("oracle", {}).get("accuracy"),
        "verdict_acc_no_retrieval": table.get("no_retrieval", {}).get("accuracy"),
        "retrieval_calls_saved": gate.get("retrieval_calls_saved"),
        "accuracy_lost_when_gated": gate.get("accuracy_lost_when_gated"),
        "utility_vs_relevance_ndcg": None
        if utility_ndcg is None or relevance_ndcg is None
        else utility_ndcg - relevance_ndcg,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sample", type=int, default=60)
    parser.add_argument("--calibration", type=int, default=30)
    parser.add_argument("--utility-claims", type=int, default=30)
    parser.add_argument("--only", nargs="*", default=["retrievers", "gate", "utility"])
    args = parser.parse_args()
    report = Report("rag", keep_previous=True)
    data, labels, test_ids, train_ids = load()
    backend = make_backend(LLM, CACHE / "llm.sqlite")
    answerer = Answerer(backend, RagSettings(task="claim"))
    test = bench_retrievers(report, answerer, data, labels, test_ids, args.sample)
    if "gate" in args.only:
        bench_gate(report, answerer, data, labels, train_ids, test, args.calibration)
    if "utility" in args.only:
        bench_utility(report, answerer, data, labels, train_ids, test, args.utility_claims)
    report.data["headline"] = headline(report.data)
    report.data["llm"] = {"model": LLM, "cache_hits": backend.hits, "asked": backend.misses}
    report.save(render(report.data), complete=True)


if __name__ == "__main__":
    main()
