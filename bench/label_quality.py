"""Label quality of each teacher against human train qrels (used here only to measure them).

Train queries are read without their judgments and labelled by the pipeline; only then are
the train qrels loaded to score each teacher: ROC-AUC, precision/recall of "relevant" at
p >= 0.5, and expected calibration error. Also: an LLM-judge settings study on pairs with
known answers (cited, BM25-hard and random abstracts), throughput, the LLM budget spent on
uncertain versus random pairs, and synthetic-query round-trip rates.

    .venv/bin/python bench/label_quality.py [--datasets scifact nfcorpus] [--llm-budget 300]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _report import SHARED_DATA, Report

from pseudorel.data import load_beir
from pseudorel.data.beir import split_query_ids
from pseudorel.labels.pipeline import LabelSettings, judge_pairs, label_pairs
from pseudorel.llm.factory import make_backend
from pseudorel.queries import Query, synthetic_queries
from pseudorel.retrieval.bm25 import BM25Retriever
from pseudorel.teachers.calibration import expected_calibration_error
from pseudorel.teachers.combine import combine_probs, select_for_judging
from pseudorel.teachers.llm_judge import JudgeSettings, LLMJudge

WORK = Path(__file__).parent / "cache" / "label_quality"
FUSION = "rank fusion (calibrated)"
#: How each corpus frames the judge's task: a user setting describing the corpus, not tuned.
DOMAIN = {"scifact": "claim", "nfcorpus": "generic"}
#: Judge settings compared on pairs with known answers; "plain" is the baseline for speed.
STUDY = {
    "plain (generic prompt, full passage)": JudgeSettings(domain="generic", max_passage_words=None),
    "domain prompt, full passage": JudgeSettings(domain="claim", max_passage_words=None),
    "domain prompt, 120 words": JudgeSettings(domain="claim", max_passage_words=120),
    "domain prompt, 60 words": JudgeSettings(domain="claim", max_passage_words=60),
    "domain prompt, 120 words, 2 slots": JudgeSettings(domain="claim", max_passage_words=120, parallel=2),
}


def auc(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    mask = ~np.isnan(p)
    if mask.sum() < 2 or len(np.unique(y[mask])) < 2:
        return float("nan")
    return float(roc_auc_score(y[mask], p[mask]))


def quality(y: np.ndarray, p: np.ndarray) -> dict:
    mask = ~np.isnan(p)
    y, p = y[mask], p[mask]
    predicted = p >= 0.5
    tp = float((predicted & (y == 1)).sum())
    return {
        "pairs": int(mask.sum()),
        "positives": int(y.sum()),
        "auc": auc(y, p),
        "precision": tp / predicted.sum() if predicted.sum() else float("nan"),
        "recall": tp / y.sum() if y.sum() else float("nan"),
        "ece": expected_calibration_error(p, y),
    }


def known_answer_pairs(ds, qrels, n_queries: int = 20, seed: int = 0) -> list[tuple[str, str, int, str]]:
    rng = random.Random(seed)
    qids = rng.sample(sorted(qrels), n_queries)
    run = BM25Retriever(ds.corpus).search({q: ds.queries[q] for q in qids}, 20)
    docs = list(ds.corpus)
    pairs = []
    for q in qids:
        relevant = [d for d, g in qrels[q].items() if g > 0 and d in ds.corpus]
        hard = next(d for d in run[q] if d not in qrels[q])
        easy = rng.choice([d for d in docs if d not in qrels[q]])
        pairs += [(q, relevant[0], 1, "pos"), (q, hard, 0, "hard"), (q, easy, 0, "random")]
    return pairs


def judge_study(ds, qrels, llm: str, workdir: Path) -> dict:
    pairs = known_answer_pairs(ds, qrels)
    y = np.array([p[2] for p in pairs])
    kind = np.array([p[3] for p in pairs])
    texts = [(ds.queries[q], ds.corpus[d].full_text) for q, d, _, _ in pairs]
    out = {}
    for name, settings in STUDY.items():
        backend = make_backend(llm, workdir / f"study-{settings.parallel}.sqlite", parallel=settings.parallel)
        judge = LLMJudge(backend, settings)
        start = time.perf_counter()
        labels = np.full(len(pairs), np.nan)
        for i, j in judge.judge_many(texts):
            labels[i] = np.nan if j.label is None else j.label
        seconds = time.perf_counter() - start
        out[name] = {
            "auc_hard": auc(y[kind != "random"], labels[kind != "random"]),
            "auc_random": auc(y[kind != "hard"], labels[kind != "hard"]),
            "seconds_per_pair": seconds / len(pairs),
            "pairs_per_s": len(pairs) / seconds,
            "from_cache": backend.hits,
        }
        print(name, out[name], flush=True)
        del backend, judge
    return out


def round_trip(ds, n_docs: int = 300) -> dict:
    queries = synthetic_queries(ds.corpus, ("title", "ict", "span"), seed=0, max_docs=n_docs)
    run = BM25Retriever(ds.corpus).search({q.id: q.text for q in queries}, 10)
    rates = {}
    for kind in ("title", "ict", "span"):
        chosen = [q for q in queries if q.source == kind]
        rates[kind] = sum(q.doc_id in run[q.id] for q in chosen) / max(len(chosen), 1)
    sample = random.Random(1).sample(queries, 20)
    return {"bm25_top10_rate": rates, "examples": [f"[{q.source}] {q.text}" for q in sample]}


def bench_dataset(
    name: str, retrievers: tuple[str, ...], llm: str | None, budget: int, llm_weight: float, first: bool, report: Report
) -> dict:
    folder = SHARED_DATA / name
    ds = load_beir(folder, splits=[])  # no judgments read while labelling
    train = [Query(q, ds.queries[q]) for q in split_query_ids(folder, "train") if q in ds.queries]
    workdir = WORK / name
    settings = LabelSettings(retrievers=retrievers)
    start = time.perf_counter()
    frame, _ = label_pairs(ds.corpus, train, settings, workdir)
    result: dict = {"train_queries": len(train), "pairs": len(frame), "cheap_seconds": time.perf_counter() - start}

    qrels = load_beir(folder, splits=["train"]).qrels["train"]  # only now: to measure the teachers
    y = np.array([int(qrels.get(q, {}).get(d, 0) > 0) for q, d in zip(frame.query_id, frame.doc_id, strict=True)])
    fusion = frame["prob_fusion"].to_numpy()
    teachers = {FUSION: fusion}
    for column, label in (("rank_bm25", "BM25 rank alone"), ("rank_dense", "MiniLM rank alone")):
        teachers[label] = -np.nan_to_num(frame[column].to_numpy(), nan=1e6)
    result["teachers"] = {t: quality(y, p) for t, p in teachers.items() if not t.endswith("alone")}
    result["teachers"].update({t: {"auc": auc(y, p)} for t, p in teachers.items() if t.endswith("alone")})
    result["source_doc"] = "n/a: train queries are real queries with no source document"
    result["round_trip"] = round_trip(ds)

    if llm and budget:
        if first:  # the settings study and the random-pairs comparison run on the first dataset only
            result["judge_study"] = judge_study(ds, qrels, llm, workdir)
        judge_settings = JudgeSettings(domain=DOMAIN.get(name, "generic"), max_passage_words=120)
        backend = make_backend(llm, workdir / "llm-cache.sqlite")
        judge = LLMJudge(backend, judge_settings)
        for policy in ("uncertain", "random") if first else ("uncertain",):
            indices = select_for_judging(frame["prob_cheap"].to_numpy(), budget, policy, seed=0)
            llm_probs, _, llm_stats = judge_pairs(frame, ds.corpus, judge, indices)
            combined = combine_probs({"fusion": fusion, "llm": llm_probs}, {"llm": llm_weight})
            judged = ~np.isnan(llm_probs)
            result[f"llm_{policy}"] = {
                "stats": llm_stats,
                "pairs_per_s": llm_stats["judged"] / max(llm_stats["seconds"], 1e-9),
                "on_judged_pairs": {
                    "fusion": quality(y[judged], fusion[judged]),
                    "llm": quality(y[judged], llm_probs[judged]),
                    "combined": quality(y[judged], combined[judged]),
                },
                "all_pairs_combined": quality(y, combined),
            }
            report.save(markdown(report.data["results"]))
    return result


def fmt(v) -> str:
    return "-" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.3f}"


def markdown(results: dict) -> str:
    lines = []
    for name, r in results.items():
        lines += [
            f"## {name}: {r['train_queries']} train queries (read without qrels), {r['pairs']} candidate pairs",
            "",
            "| teacher | pairs | relevant | ROC-AUC | precision@0.5 | recall@0.5 | ECE |",
            "|---|---|---|---|---|---|---|",
        ]
        rows = [(t, q) for t, q in r["teachers"].items()]
        for policy in ("uncertain", "random"):
            block = r.get(f"llm_{policy}")
            if block:
                for part, q in block["on_judged_pairs"].items():
                    rows.append((f"{part}, on the {q['pairs']} {policy} LLM pairs", q))
                rows.append((f"fusion + LLM ({policy} pairs), all pairs", block["all_pairs_combined"]))
        for t, q in rows:
            lines.append(
                f"| {t} | {q.get('pairs', '-')} | {q.get('positives', '-')} | {fmt(q.get('auc'))} | "
                f"{fmt(q.get('precision'))} | {fmt(q.get('recall'))} | {fmt(q.get('ece'))} |"
            )
        lines.append("")
        if "judge_study" in r:
            lines += [
                "Judge settings on 20 train claims x (cited, BM25-hard, random) abstracts:",
                "",
                "| settings | AUC cited vs hard | AUC cited vs random | s/pair | pairs/s |",
                "|---|---|---|---|---|",
            ]
            for s, v in r["judge_study"].items():
                lines.append(
                    f"| {s} | {fmt(v['auc_hard'])} | {fmt(v['auc_random'])} | {v['seconds_per_pair']:.2f} | "
                    f"{v['pairs_per_s']:.3f} |"
                )
            lines.append("")
        rt = r["round_trip"]
        lines.append(
            "Synthetic queries whose source document BM25 ranks in its top 10: "
            + ", ".join(f"{k} {v:.1%}" for k, v in rt["bm25_top10_rate"].items())
        )
        lines += ["", "Twenty synthetic queries:", ""] + [f"- {e}" for e in rt["examples"]] + [""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["scifact", "nfcorpus"])
    parser.add_argument("--llm", default="gguf:qwen2.5-coder-1.5b")
    parser.add_argument(
        "--retrievers",
        default="bm25,dense",
        help="fused by the rank-fusion teacher; add dense:mpnet for a second model",
    )
    parser.add_argument("--llm-budget", type=int, default=300)
    parser.add_argument("--llm-weight", type=float, default=1.0)
    parser.add_argument("--no-study", action="store_true", help="skip the settings study and random-pairs run")
    args = parser.parse_args()
    report = Report("label_quality")
    report.data["settings"] = vars(args)
    results = report.data.setdefault("results", {})
    for i, name in enumerate(args.datasets):
        first = not args.no_study and i == 0
        retrievers = tuple(args.retrievers.split(","))
        results[name] = bench_dataset(name, retrievers, args.llm, args.llm_budget, args.llm_weight, first, report)
        report.save(markdown(results))
    sci = results.get("scifact", {})
    study = sci.get("judge_study", {})
    best = study.get("domain prompt, 120 words", {})
    plain = study.get("plain (generic prompt, full passage)", {})
    report.data["headline"] = {
        "scifact_fusion_auc": sci.get("teachers", {}).get(FUSION, {}).get("auc"),
        # the LLM on a random sample of candidate pairs, comparable with the fusion teacher's AUC
        "scifact_llm_auc": sci.get("llm_random", {}).get("on_judged_pairs", {}).get("llm", {}).get("auc"),
        # fusion + LLM on the most uncertain pairs, over all candidate pairs
        "scifact_combined_auc": sci.get("llm_uncertain", {}).get("all_pairs_combined", {}).get("auc"),
        # the default settings (domain prompt, 120 words) in the settings study, nothing else running
        "judge_pairs_per_s": best.get("pairs_per_s"),
        "judge_speedup_vs_plain": (best.get("pairs_per_s") or 0) / plain["pairs_per_s"] if plain else None,
    }
    report.save(markdown(results), complete=True)
    print(markdown(results))


if __name__ == "__main__":
    main()
