"""Does the backend ``auto`` picks stay the fastest on a corpus's longest documents? A model's
documents/s per backend on a random sample of a collection and on its longest documents (the
calibration times 16 random documents; a corpus pass spends most of its time on the long ones),
each the median of 3 timed passes after a warm-up pass, all in one run.

    .venv/bin/python bench/backend_lengths.py [--model nomic] [--dataset cranfield] [--backends torch-bf16 openvino]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _corpora import load_collection
from _report import Report

from pseudorel.retrieval.backends import available_backends
from pseudorel.retrieval.calibration import choose_backend, default_backend, measure_backend
from pseudorel.retrieval.models import load_bi_encoder

REPEATS = 3
SAMPLES = {"random": 64, "longest": 32}


def samples(corpus: dict) -> dict[str, list[str]]:
    texts = [corpus[d].full_text for d in sorted(corpus)]
    by_length = sorted(texts, key=len)
    return {
        "random": random.Random(1).sample(texts, min(SAMPLES["random"], len(texts))),
        "longest": by_length[-SAMPLES["longest"] :],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="nomic")
    parser.add_argument("--dataset", default="cranfield")
    parser.add_argument("--backends", nargs="+", help="default: PyTorch's default here and OpenVINO, where available")
    args = parser.parse_args()
    backends = args.backends or [b for b in (default_backend(), "openvino") if b in available_backends()]
    corpus = load_collection(args.dataset).corpus
    model = load_bi_encoder(args.model)
    texts = samples(corpus)
    report = Report(f"backend_lengths_{args.model}_{args.dataset}")
    rows = {}
    for name, sample in texts.items():
        queries = [" ".join(t.split()[:8]) for t in sample[:4]]
        for backend in backends:
            rates = [measure_backend(model, backend, sample, queries, timed=True)[0] for _ in range(REPEATS)]
            rows[f"{name}/{backend}"] = {
                "documents": len(sample),
                "mean_characters": round(statistics.mean(len(t) for t in sample)),
                "docs_per_second": [round(r, 2) for r in rates],
                "median": round(statistics.median(rates), 2),
            }
    choice = choose_backend(model, texts["random"][:32])
    report.data = {"rates": rows, "auto_choice": {"backend": choice.backend, "reason": choice.reason}}
    lines = [
        f"Model {args.model}, collection {args.dataset}; documents/s, median of {REPEATS} (each pass timed after a "
        "warm-up pass over the same documents).",
        "",
        "| sample | backend | documents | mean characters | documents/s (3 passes) | median |",
        "|---|---|---|---|---|---|",
    ]
    for key, r in rows.items():
        sample, backend = key.split("/")
        cells = [sample, backend, r["documents"], r["mean_characters"], r["docs_per_second"], r["median"]]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    lines += ["", f"`auto` here (cached per machine and model): {choice.reason}", ""]
    report.save("\n".join(lines), complete=True)


if __name__ == "__main__":
    main()
