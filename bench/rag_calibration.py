"""A probe on bench/rag.py's cached answers: does a label-free verdict calibration help a model that
never answers "false"? Each verdict's probability is divided by its mean over the sample (the
model's prior on that sample; contextual calibration, Zhao et al. 2021), then the largest wins.

    .venv/bin/python bench/rag_calibration.py      (after bench/rag.py; every answer comes from its cache)

No label is read to fit anything; the test verdicts score both columns. Results:
bench/results/rag_calibration.{json,md}. Not a product option: it lowered every accuracy.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import rag as bench
from _report import Report

from pseudorel.llm.factory import make_backend
from pseudorel.rag.answer import Answerer, RagSettings
from pseudorel.rag.pipeline import answer_with_documents, seeded_sample, top_documents
from pseudorel.rag.prompts import VERDICTS


def main() -> None:
    report = Report("rag_calibration")
    data, labels, test_ids, _ = bench.load()
    backend = make_backend(bench.LLM, bench.CACHE / "llm.sqlite")
    answerer = Answerer(backend, RagSettings(task="claim"))
    ids = seeded_sample(test_ids, 60, seed=0)  # bench/rag.py's sample
    questions = {q: data.queries[q] for q in ids}
    runs = bench.retrieval_runs(data, questions)
    conditions = {"no_retrieval": None, "oracle": bench.oracle_documents(labels, data.qrels["test"], ids)}
    conditions |= {name: top_documents({q: run[q] for q in ids if q in run}, bench.K) for name, run in runs.items()}
    rows = {}
    for name, documents in conditions.items():
        answers = answer_with_documents(answerer, questions, documents, data.corpus)
        prior = {v: sum(a.probs.get(v, 0.0) for a in answers) / len(answers) for v in VERDICTS}
        calibrated = [max(VERDICTS, key=lambda v, a=a: a.probs.get(v, 0.0) / max(prior[v], 1e-9)) for a in answers]
        gold = [labels[a.question_id].verdict for a in answers]
        rows[name] = {
            "accuracy_raw": sum(a.verdict == g for a, g in zip(answers, gold, strict=True)) / len(answers),
            "accuracy_calibrated": sum(c == g for c, g in zip(calibrated, gold, strict=True)) / len(answers),
            "calibrated_verdicts": {v: calibrated.count(v) for v in VERDICTS},
        }
    report.data = {"sample": len(ids), "rows": rows, "llm_requests_not_cached": backend.misses}
    lines = ["| retriever | accuracy (raw) | accuracy (calibrated) | calibrated verdicts |", "|---|---|---|---|"]
    lines += [
        f"| {n} | {r['accuracy_raw']:.3f} | {r['accuracy_calibrated']:.3f} | {r['calibrated_verdicts']} |"
        for n, r in rows.items()
    ]
    report.save("\n".join(lines) + "\n", complete=True)


if __name__ == "__main__":
    main()
