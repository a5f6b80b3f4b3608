"""Noise sweep: losses x noise ratios x seeds, each run cached, one table and one plot.

Clean labels (human qrels, or a label table's positives) are corrupted with
:func:`inject_noise`; a bi-encoder is trained on each noisy copy and scored on the test
qrels. Each finished run is a small JSON file, so an interrupted sweep resumes where it
stopped and a larger sweep reuses the runs of a smaller one.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import pandas as pd

from pseudorel._io import atomic_write
from pseudorel.data.types import Dataset, Qrels, Run
from pseudorel.errors import UsageError
from pseudorel.evaluation.metrics import evaluate_run
from pseudorel.noise.inject import inject_noise
from pseudorel.retrieval.dense import DenseRetriever
from pseudorel.training.bi_encoder import TrainSettings, train_bi_encoder
from pseudorel.training.examples import ExampleSettings, build_examples
from pseudorel.training.losses import parse_loss_spec

REPORTED = ("nDCG@10", "R@10", "RR@10")


@dataclass
class SweepSettings:
    losses: tuple[str, ...] = ("infonce", "bixse", "gce", "sce", "bootstrap_soft", "label_weakening")
    ratios: tuple[float, ...] = (0.0, 0.1, 0.3, 0.5)
    seeds: tuple[int, ...] = (0,)
    extra_seeds: dict[float, tuple[int, ...]] = field(default_factory=lambda: {0.5: (0, 1, 2)})
    kind: str = "bm25"
    base_model: str = "all-MiniLM-L6-v2"
    train: TrainSettings = field(default_factory=lambda: TrainSettings(eval_fraction=0.0))
    negatives: int = 3
    loss_kwargs: dict[str, dict] = field(default_factory=dict)

    def grid(self) -> list[tuple[str, float, int]]:
        out = []
        for loss in self.losses:
            for ratio in self.ratios:
                for seed in sorted(set(self.seeds) | set(self.extra_seeds.get(ratio, ()))):
                    out.append((loss, ratio, seed))
        return out


def labels_from_qrels(qrels: Qrels, queries: dict[str, str], ranking: Run, depth: int = 20) -> pd.DataFrame:
    """A label table: each query's positives (label 1) and its top ranked other documents (label 0)."""
    rows = []
    for qid, judged in qrels.items():
        if qid not in queries:
            continue
        positives = {d for d, g in judged.items() if g > 0}
        ranked = sorted(ranking.get(qid, {}).items(), key=lambda x: (-x[1], x[0]))[:depth]
        for rank, (doc_id, _) in enumerate(ranked, start=1):
            if doc_id not in positives:
                rows.append((qid, queries[qid], doc_id, 0.0, float(rank)))
        rows += [(qid, queries[qid], d, 1.0, 0.0) for d in positives]
    return pd.DataFrame(rows, columns=["query_id", "query_text", "doc_id", "label", "fused_rank"])


def run_sweep(
    train: Dataset,
    test: Dataset,
    split_train: str,
    ranking: Run,
    output: str | Path,
    settings: SweepSettings,
    dense_ranking: Run | None = None,
    progress=print,
) -> pd.DataFrame:
    """Every (loss, ratio, seed) run; returns the table of results (one row per run)."""

    output = Path(output)
    clean = train.qrels[split_train]
    queries = {q: train.queries[q] for q in clean if q in train.queries}
    test_queries = test.split_queries("test")
    rows = []
    for loss, ratio, seed in settings.grid():
        started = time.perf_counter()
        loss_name, spec_kwargs = parse_loss_spec(loss)
        stem = re.sub(r"[^A-Za-z0-9.=_-]+", "_", loss).strip("_")
        result_path = output / "runs" / f"{stem}-r{ratio:.2f}-s{seed}.json"
        if result_path.is_file():
            rows.append(json.loads(result_path.read_text()))
            continue
        noisy, corruptions = inject_noise(
            clean,
            ratio,
            settings.kind,
            seed,
            ranking=dense_ranking if settings.kind == "dense" else ranking,
            doc_ids=list(train.corpus),
        )
        frame = labels_from_qrels(noisy, queries, ranking)
        examples = build_examples(
            frame,
            train.corpus,
            ExampleSettings(
                negatives=settings.negatives, positive_threshold=0.5, negative_threshold=0.5, max_positives=1, seed=seed
            ),
        )
        model_dir = output / "models" / result_path.stem
        kwargs = {**settings.loss_kwargs.get(loss_name, {}), **spec_kwargs}
        train_settings = replace(settings.train, loss=loss_name, seed=seed, loss_kwargs=kwargs)
        train_bi_encoder(
            settings.base_model,
            examples,
            model_dir,
            train_settings,
            card={"teacher": f"qrels with {ratio:.0%} {settings.kind} noise (seed {seed})"},
        )
        run = DenseRetriever(test.corpus, model=str(model_dir), progress=False, use_cache=False).search(
            test_queries, 100
        )
        metrics = evaluate_run(test.qrels["test"], run, REPORTED).aggregate
        row = {
            "loss": loss,
            "ratio": ratio,
            "seed": seed,
            "corrupted_queries": len({c.query_id for c in corruptions}),
            "examples": len(examples),
            "seconds": round(time.perf_counter() - started, 1),
            **metrics,
        }
        with atomic_write(result_path) as f:
            json.dump(row, f)
        shutil.rmtree(model_dir, ignore_errors=True)  # keep the disk small: the result is what matters
        progress(f"{loss} r={ratio} seed={seed}: nDCG@10 {metrics['nDCG@10']:.4f}")
        rows.append(row)
    table = pd.DataFrame(rows)
    with atomic_write(output / "settings.json") as f:
        json.dump(asdict(settings), f, indent=2, default=str)
    return table


def load_runs(output: str | Path) -> pd.DataFrame:
    """Every finished run cached under ``output`` (the union of all sweeps run there)."""
    rows = [json.loads(p.read_text()) for p in sorted((Path(output) / "runs").glob("*.json"))]
    return pd.DataFrame(rows)


def summarize(table: pd.DataFrame, metric: str = "nDCG@10") -> pd.DataFrame:
    """Mean and standard deviation over seeds, one row per (loss, ratio)."""
    grouped = table.groupby(["loss", "ratio"])[metric]
    return grouped.agg(["mean", "std", "count"]).reset_index()


def plot(
    table: pd.DataFrame, path: str | Path, metric: str = "nDCG@10", title: str = "", baseline: float | None = None
) -> Path:
    """Metric against noise ratio, one line per loss (mean over seeds, spread as error bars);
    ``baseline`` (the untrained model's score) is drawn as a dashed line."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError("plots need matplotlib: pip install -e '.[report]'") from None
    summary = summarize(table, metric)
    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    for loss, part in summary.groupby("loss"):
        ax.errorbar(part["ratio"], part["mean"], yerr=part["std"].fillna(0), marker="o", capsize=3, label=loss)
    if baseline is not None:
        ax.axhline(baseline, color="gray", linestyle="--", linewidth=1, label="untrained")
    ax.set_xlabel("noise ratio (fraction of training queries with a wrong positive)")
    ax.set_ylabel(f"test {metric}")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    tmp.replace(path)
    return path
