"""``pseudorel noise-sweep``: how losses hold up as labels get noisier."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from pseudorel._io import atomic_write, hold_output
from pseudorel.cli._options import at_least, one_of, positive_number, writable_output
from pseudorel.cli.app import app
from pseudorel.data import load_dataset
from pseudorel.errors import UsageError
from pseudorel.retrieval.bm25 import BM25Retriever


def _ratios(text: str, option: str) -> tuple[float, ...]:
    """Comma-separated noise ratios, each a number in [0, 1)."""
    import math

    try:
        values = tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise UsageError(f"{option} must be comma-separated numbers, got '{text}'") from None
    if not values or any(not (math.isfinite(v) and 0 <= v < 1) for v in values):
        raise UsageError(f"{option}: each noise ratio must be at least 0 and below 1, got '{text}'")
    return values


def _seeds(text: str, option: str) -> tuple[int, ...]:

    try:
        values = tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise UsageError(f"{option} must be comma-separated whole numbers, got '{text}'") from None
    if not values:
        raise UsageError(f"{option} names no seed")
    return values


def _extra_seeds(text: str) -> dict[float, tuple[int, ...]]:
    """``RATIO=SEEDS;...``, e.g. ``0.5=0,1,2``."""

    extra = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        ratio, equals, values = part.partition("=")
        if not equals:
            raise UsageError(f"--extra-seeds: '{part}' is not RATIO=SEEDS (e.g. 0.5=0,1,2)")
        extra[_ratios(ratio, "--extra-seeds")[0]] = _seeds(values, "--extra-seeds")
    return extra


def _loss_specs(text: str) -> tuple[str, ...]:
    """Split ``infonce,label_weakening[beta=0.3,alpha=0]`` on the commas outside brackets."""
    from pseudorel.training.losses import parse_loss_spec  # start-up: loads torch

    specs = tuple(s.strip() for s in re.findall(r"[^,\[]+(?:\[[^\]]*\])?", text) if s.strip())
    for spec in specs:
        try:
            parse_loss_spec(spec)
        except ValueError as exc:
            raise UsageError(f"--losses: {exc}") from None
    return specs


@app.command("noise-sweep")
def noise_sweep(
    dataset: Annotated[str, typer.Option(help="BEIR folder or name with train and test qrels.")],
    output: Annotated[Path, typer.Option(help="Folder for runs/, results.csv, the plot, report.md and report.html.")],
    losses: Annotated[
        str, typer.Option(help="Comma-separated losses; variants as label_weakening[beta=0.3,alpha=0].")
    ] = "infonce,bixse,gce,sce,bootstrap_soft,label_weakening",
    ratios: Annotated[str, typer.Option(help="Comma-separated noise ratios.")] = "0,0.1,0.3,0.5",
    seeds: Annotated[str, typer.Option(help="Seeds for every ratio.")] = "0",
    extra_seeds: Annotated[str, typer.Option(help="RATIO=SEEDS;... more seeds at some ratios.")] = "0.5=0,1,2",
    kind: Annotated[str, typer.Option(help="bm25, dense or random replacement.")] = "bm25",
    train_split: Annotated[str, typer.Option(help="The clean labels noise is injected into.")] = "train",
    base_model: Annotated[str, typer.Option()] = "all-MiniLM-L6-v2",
    epochs: Annotated[float, typer.Option()] = 1.0,
    batch_size: Annotated[int, typer.Option()] = 32,
    max_seq_length: Annotated[int, typer.Option(help="Tokens per text in training and test encoding.")] = 256,
    negatives: Annotated[int, typer.Option(help="Hard negatives per training example.")] = 3,
    beta: Annotated[float | None, typer.Option(help="Label weakening's confidence threshold.")] = None,
    alpha: Annotated[float | None, typer.Option(help="Label weakening's relaxation.")] = None,
) -> None:
    """Train each loss on noisy copies of a dataset's train labels; report test metrics and a plot."""
    import math

    from pseudorel.noise.sweep import SweepSettings, plot, run_sweep, summarize  # start-up: loads numpy, pandas, torch
    from pseudorel.training.bi_encoder import TrainSettings  # start-up: loads numpy, pandas

    # every option is checked before any work: a bad one is one line, not a traceback an hour in
    specs, ratio_values, seed_values, extra = (
        _loss_specs(losses),
        _ratios(ratios, "--ratios"),
        _seeds(seeds, "--seeds"),
        _extra_seeds(extra_seeds),
    )
    one_of(kind, ("bm25", "dense", "random"), "--kind")
    positive_number(epochs, "--epochs")
    at_least(batch_size, 2, "--batch-size")
    at_least(max_seq_length, 8, "--max-seq-length")
    at_least(negatives, 0, "--negatives")
    for name, value in (("--beta", beta), ("--alpha", alpha)):
        if value is not None and not (math.isfinite(value) and 0 <= value <= 1):
            raise UsageError(f"{name} must be a number from 0 to 1, got {value}")
    writable_output(output)

    hold_output(output, "pseudorel noise-sweep")
    lw = {k: v for k, v in (("beta", beta), ("alpha", alpha)) if v is not None}
    settings = SweepSettings(
        losses=specs,
        ratios=ratio_values,
        seeds=seed_values,
        extra_seeds=extra,
        kind=kind,
        base_model=base_model,
        train=TrainSettings(epochs=epochs, batch_size=batch_size, eval_fraction=0.0, max_seq_length=max_seq_length),
        negatives=negatives,
        loss_kwargs={"label_weakening": lw} if lw else {},
    )
    data = load_dataset(dataset, splits=[train_split, "test"])
    train_queries = {q: data.queries[q] for q in data.qrels[train_split] if q in data.queries}
    ranking = BM25Retriever(data.corpus).search(train_queries, 100)
    dense_ranking = None
    if kind == "dense":
        from pseudorel.retrieval.dense import DenseRetriever  # start-up: loads numpy

        dense_ranking = DenseRetriever(data.corpus, model=base_model).search(train_queries, 100)
    table = run_sweep(data, data, train_split, ranking, output, settings, dense_ranking, progress=typer.echo)
    with atomic_write(output / "results.csv") as f:
        table.to_csv(f, index=False)
    png = plot(table, output / "noise.png", title=f"{data.name}: {kind} label noise")
    summary = summarize(table)
    lines = [
        f"# Noise sweep: {data.name}, {kind} noise",
        "",
        f"![nDCG@10 vs noise ratio]({png.name})",
        "",
        "| loss | ratio | nDCG@10 mean | std | seeds |",
        "|---|---|---|---|---|",
    ]
    for row in summary.itertuples():
        lines.append(f"| {row.loss} | {row.ratio} | {row.mean:.4f} | {row.std:.4f} | {row.count} |")
    with atomic_write(output / "report.md") as f:
        f.write("\n".join(lines) + "\n")
    from pseudorel.report.noise import write_noise_report  # start-up: loads numpy, pandas

    write_noise_report(output / "report.html", f"Noise sweep: {data.name}, {kind} noise", summary, png)
    typer.echo("\n".join(lines))
