"""How far can a query tower go against a frozen document index? A diagnostic for issue 4.

For each test query, the rank-fusion teacher (BM25 + MiniLM, label-free) gives a distribution
over its candidates. A *free* query vector per test query is fitted to it directly against
the base model's corpus embeddings (the same loss and scale as the query tower) and its
ranking scored on the test qrels. This is not a method (it needs the teacher at query time),
it bounds what the frozen index can express; each trained query tower given on the command
line is placed on the same scale: the teacher-label likelihood of the test queries (minus the
loss) and nDCG@10. Qrels are read only to score.

    .venv/bin/python bench/index_ceiling.py [--datasets scifact nfcorpus] [--towers NAME=PATH ...]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from _frozen import base_index, likelihood, run_of
from _report import SHARED_DATA, Report

from pseudorel.data import load_beir
from pseudorel.evaluation import evaluate_run
from pseudorel.labels.pipeline import LabelSettings, label_pairs
from pseudorel.queries import Query
from pseudorel.training.losses.corpus_distillation import teacher_targets
from pseudorel.training.query_tower import query_targets

WORK = Path(__file__).parent / "cache" / "index_ceiling"
SCALE = 20.0


def ceiling(name: str, towers: dict[str, str], steps: int = 100) -> dict:
    from sentence_transformers import SentenceTransformer

    test = load_beir(SHARED_DATA / name, splits=["test"])
    texts = test.split_queries("test")
    frame, _ = label_pairs(test.corpus, [Query(q, t) for q, t in texts.items()], LabelSettings(), WORK / name)
    base, doc_ids, documents = base_index(test.corpus)
    targets = query_targets(frame, {d: i for i, d in enumerate(doc_ids)})
    docs, weights = teacher_targets(targets.rows)
    qrels = test.qrels["test"]

    def score(queries: torch.Tensor) -> dict:
        return {
            "teacher_label_log_likelihood": round(
                float(likelihood(queries, documents, docs, weights, SCALE).mean()), 4
            ),
            "nDCG@10": round(
                evaluate_run(qrels, run_of(queries, documents, targets.ids, doc_ids)).aggregate["nDCG@10"], 4
            ),
        }

    encoded = {"zero_shot": torch.from_numpy(base.encode(targets.texts))}
    for label, tower in towers.items():
        encoded[label] = torch.from_numpy(SentenceTransformer(tower, device="cpu").encode_query(targets.texts))
    result = {label: score(q) for label, q in encoded.items()}
    free = encoded["zero_shot"].clone().requires_grad_(True)
    optimizer = torch.optim.Adam([free], lr=0.01)
    for _ in range(steps):
        loss = -likelihood(free, documents, docs, weights, SCALE).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    result["free_query_vectors"] = {**score(free.detach()), "adam_steps": steps}
    fused = {q: {d: -r for d, r in zip(g.doc_id, g.fused_rank, strict=True)} for q, g in frame.groupby("query_id")}
    result["teacher_rank_fusion"] = {"nDCG@10": round(evaluate_run(qrels, fused).aggregate["nDCG@10"], 4)}
    result["queries"] = len(targets.ids)
    return result


def markdown(results: dict) -> str:
    lines = ["| dataset | query vectors | teacher-label log-likelihood | nDCG@10 |", "|---|---|---|---|"]
    for name, block in results.items():
        for label, r in block.items():
            if isinstance(r, dict):
                lines.append(f"| {name} | {label} | {r.get('teacher_label_log_likelihood', '-')} | {r['nDCG@10']} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["scifact", "nfcorpus"])
    parser.add_argument("--towers", nargs="*", default=[], help="NAME=PATH of trained query towers, per dataset")
    args = parser.parse_args()
    report = Report("index_ceiling")
    results = report.data.setdefault("results", {})
    start = time.perf_counter()
    for name in args.datasets:
        towers = dict(t.split("=", 1) for t in args.towers if t.startswith(f"{name}/"))
        results[name] = ceiling(name, {k.split("/", 1)[1]: v for k, v in towers.items()})
        report.save(markdown(results))
        print(name, results[name], flush=True)
    print(f"done in {time.perf_counter() - start:.0f} s")
    report.save(markdown(results), complete=True)


if __name__ == "__main__":
    main()
