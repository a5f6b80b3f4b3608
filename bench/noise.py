"""Label-noise robustness: BM25-hard noise injected into human train qrels (the clean
reference, used on purpose here), one bi-encoder per (loss, ratio, seed), test qrels to score.

Writes bench/results/noise.{json,md} and noise_<dataset>.png; finished runs are cached under
bench/cache/noise/, so the sweep can be run in pieces (``--losses``, ``--ratios``) and resumed.

    .venv/bin/python bench/noise.py [--datasets scifact nfcorpus] [--losses ...] [--ratios 0 0.1 0.3 0.5]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _report import RESULTS, SHARED_DATA, Report

from pseudorel.data import load_beir
from pseudorel.noise.sweep import SweepSettings, plot, run_sweep, summarize
from pseudorel.retrieval.bm25 import BM25Retriever
from pseudorel.training.bi_encoder import TrainSettings

WORK = Path(__file__).parent / "cache" / "noise"
LOSSES = ("infonce", "bixse", "gce", "sce", "bootstrap_soft", "label_weakening")


def markdown(results: dict) -> str:
    lines = []
    for name, r in results.items():
        lines += [
            f"## {name}",
            "",
            f"![nDCG@10 vs noise]({r['plot']})",
            "",
            "| loss | noise ratio | nDCG@10 mean | std | seeds |",
            "|---|---|---|---|---|",
        ]
        for row in r["summary"]:
            std = "-" if row["std"] != row["std"] else f"{row['std']:.4f}"
            lines.append(f"| {row['loss']} | {row['ratio']} | {row['mean']:.4f} | {std} | {row['count']} |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["scifact", "nfcorpus"])
    parser.add_argument("--losses", nargs="+", default=list(LOSSES))
    parser.add_argument("--ratios", nargs="+", type=float, default=[0.0, 0.1, 0.3, 0.5])
    parser.add_argument("--seeds-at-05", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument(
        "--max-train-queries", type=int, default=None, help="subsample train queries (nfcorpus has 2,590)"
    )
    parser.add_argument("--max-seq-length", type=int, default=128, help="tokens, training and test encoding")
    parser.add_argument("--negatives", type=int, default=3, help="hard negatives per training query")
    parser.add_argument("--epochs", type=float, default=1.0)
    args = parser.parse_args()
    report = Report("noise", keep_previous=True)  # datasets run separately accumulate
    results = report.data.setdefault("results", {})
    headline = report.data.setdefault("headline", {})
    for name in args.datasets:
        ds = load_beir(SHARED_DATA / name, splits=["train", "test"])
        if args.max_train_queries:
            keep = sorted(ds.qrels["train"])[: args.max_train_queries]
            ds.qrels["train"] = {q: ds.qrels["train"][q] for q in keep}
        queries = {q: ds.queries[q] for q in ds.qrels["train"] if q in ds.queries}
        ranking = BM25Retriever(ds.corpus).search(queries, 100)
        settings = SweepSettings(
            losses=tuple(args.losses),
            ratios=tuple(args.ratios),
            seeds=(0,),
            extra_seeds={0.5: tuple(args.seeds_at_05)},
            train=TrainSettings(
                epochs=args.epochs, batch_size=32, eval_fraction=0.0, max_seq_length=args.max_seq_length
            ),
            negatives=args.negatives,
        )
        table = run_sweep(ds, ds, "train", ranking, WORK / name, settings)
        png = plot(table, WORK / name / "noise.png", title=f"{name}: BM25-hard label noise")
        shutil.copy(png, RESULTS / f"noise_{name}.png")
        summary = summarize(table)
        results[name] = {
            "runs": table.to_dict("records"),
            "summary": summary.to_dict("records"),
            "plot": f"noise_{name}.png",
        }

        def mean(loss, ratio, summary=summary):
            row = summary[(summary.loss == loss) & (summary.ratio == ratio)]
            return None if row.empty else float(row["mean"].iloc[0])

        headline.update(
            {
                f"{name}_lw_r0": mean("label_weakening", 0.0),
                f"{name}_lw_r05": mean("label_weakening", 0.5),
                f"{name}_infonce_r05": mean("infonce", 0.5),
            }
        )
        report.save(markdown(results))
    report.save(markdown(results), complete=True)


if __name__ == "__main__":
    main()
