"""``pseudorel train``: one student from a label table (``pseudorel label``'s output)."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Annotated

import typer

from pseudorel._io import hold_output
from pseudorel.cli._options import (
    RERANKER_LOSSES,
    RayAddressOpt,
    RerankerLossOpt,
    WorkersOpt,
    at_least,
    check_executor_options,
    model_exists,
    one_of,
    positive_number,
    retriever_loss,
    writable_output,
)
from pseudorel.cli.app import app
from pseudorel.cli.label import CorpusOpt, DatasetOpt, _load_corpus
from pseudorel.errors import InputError, UsageError

STUDENTS = ("retriever", "reranker")


@app.command()
def train(
    labels: Annotated[Path, typer.Option(help="Label table (Parquet) from `pseudorel label`.")],
    output: Annotated[Path, typer.Option(help="Folder for the trained model (sentence-transformers format).")],
    dataset: DatasetOpt = None,
    corpus: CorpusOpt = None,
    student: Annotated[str, typer.Option(help="retriever (bi-encoder) or reranker (cross-encoder).")] = "retriever",
    tower: Annotated[
        str, typer.Option(help="Retriever: query (query tower, frozen corpus index), query+document or both.")
    ] = "query",
    loss: Annotated[str, typer.Option(help="Retriever loss with --tower both: infonce, bixse, kl, ...")] = "infonce",
    reranker_loss: RerankerLossOpt = "listwise",
    base_model: Annotated[str, typer.Option(help="Student initialisation.")] = "all-MiniLM-L6-v2",
    epochs: Annotated[float | None, typer.Option(help="Training epochs (default: the student's own).")] = None,
    learning_rate: Annotated[float | None, typer.Option(help="Learning rate (default: the student's own).")] = None,
    batch_size: Annotated[
        int | None, typer.Option(help="Examples per step and process (default: the student's own).")
    ] = None,
    time_budget: Annotated[float | None, typer.Option(help="Minutes; training stops when they run out.")] = None,
    executor: Annotated[
        str, typer.Option(help="local (this process; or one per torchrun rank) or ray (Ray Train, --workers of them).")
    ] = "local",
    ray_address: RayAddressOpt = None,
    workers: WorkersOpt = None,
) -> None:
    """Train a retriever or a reranker on pseudo-labels made earlier; resumes an interrupted run."""
    from dataclasses import replace

    if check_executor_options(executor, ray_address, workers) != "local":
        from pseudorel.scale.ray_train import run_on_ray  # start-up: loads numpy

        arguments = {name: value for name, value in locals().items() if name in _TRAIN_PARAMETERS}
        arguments |= {k: _absolute(arguments[k]) for k in ("labels", "output", "corpus", "dataset", "base_model")}
        run_on_ray(train, {**arguments, "executor": "local"}, workers or 2, ray_address)
        typer.echo(f"{student} trained on {workers or 2} Ray Train workers -> {output}")
        return

    from pseudorel.adapt import TOWERS, AdaptSettings, train_reranker, train_retriever  # start-up: loads numpy, pandas
    from pseudorel.labels.store import load_labels  # start-up: loads pandas

    if student not in STUDENTS:
        raise UsageError(f"--student must be one of {', '.join(STUDENTS)}; got '{student}'")
    if tower not in TOWERS:
        raise UsageError(f"--tower must be one of {', '.join(TOWERS)}; got '{tower}'")
    for name, value in (("--epochs", epochs), ("--learning-rate", learning_rate), ("--time-budget", time_budget)):
        positive_number(value, name)
    if batch_size is not None:
        at_least(batch_size, 2, "--batch-size")
    model_exists(base_model, "--base-model")
    writable_output(output)
    loss_name, loss_kwargs = retriever_loss(loss)
    docs, _, _ = _load_corpus(dataset, corpus)
    frame = load_labels(labels)
    missing = sorted(set(frame["doc_id"].astype(str)) - set(docs))
    if missing:
        raise InputError(labels, f"{len(missing)} labelled document(s) are not in the corpus, e.g. '{missing[0]}'")

    given = {
        "epochs": epochs,
        "learning_rate": learning_rate,
        "batch_size": batch_size,
        "time_limit_s": time_budget and time_budget * 60,
    }
    overrides = {k: v for k, v in given.items() if v is not None}
    settings = AdaptSettings(base_model=base_model, retriever_tower=tower)
    settings = replace(
        settings,
        query_tower=replace(settings.query_tower, **overrides),
        document_tower=replace(settings.document_tower, **overrides),
        retriever=replace(settings.retriever, loss=loss_name, loss_kwargs=loss_kwargs, **overrides),
        reranker=replace(
            settings.reranker, loss=one_of(reranker_loss, RERANKER_LOSSES, "--reranker-loss"), **overrides
        ),
    )

    hold_output(output, "pseudorel train", file=True)  # beside the model folder, not in it
    if student == "reranker":
        pairs = train_reranker(frame, docs, output, settings)
        typer.echo(f"reranker trained on {pairs} labelled pairs -> {output}")
    else:
        examples = train_retriever(frame, docs, output, settings)
        typer.echo(f"retriever trained on {examples} {'examples' if tower == 'both' else 'queries'} -> {output}")


_TRAIN_PARAMETERS = set(inspect.signature(train).parameters) - {"executor", "ray_address", "workers"}


def _absolute(value):
    """A path (or a name that is an existing path) made absolute, for workers in other folders."""
    if value is None:
        return None
    path = Path(value)
    if isinstance(value, Path) or path.exists():
        resolved = path.resolve()
        return resolved if isinstance(value, Path) else str(resolved)
    return value
