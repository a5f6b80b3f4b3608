"""``pseudorel noise-sweep``: how losses hold up as labels get noisier."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from pseudorel.cli.app import app


def _floats(text: str) -> tuple[float, ...]:
    return tuple(float(x) for x in text.split(",") if x.strip())


def _loss_specs(text: str) -> tuple[str, ...]:
    """Split ``infonce,label_weakening[beta=0.3,alpha=0]`` on the commas outside brackets."""
    from pseudorel.errors import UsageError
    from pseudorel.training.losses import parse_loss_spec

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
    from pseudorel._io import atomic_write
    from pseudorel.data import load_dataset
    from pseudorel.noise.sweep import SweepSettings, plot, run_sweep, summarize
    from pseudorel.retrieval.bm25 import BM25Retriever
    from pseudorel.training.bi_encoder import TrainSettings

    lw = {k: v for k, v in (("beta", beta), ("alpha", alpha)) if v is not None}
    extra = {}
    for part in filter(None, extra_seeds.split(";")):
        ratio, _, values = part.partition("=")
        extra[float(ratio)] = tuple(int(v) for v in values.split(","))
    settings = SweepSettings(
        losses=_loss_specs(losses),
        ratios=_floats(ratios),
        seeds=tuple(int(s) for s in seeds.split(",")),
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
        from pseudorel.retrieval.dense import DenseRetriever

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
    from pseudorel.report.noise import write_noise_report

    write_noise_report(output / "report.html", f"Noise sweep: {data.name}, {kind} noise", summary, png)
    typer.echo("\n".join(lines))
