"""``pseudorel adapt``: a corpus in, a trained retriever and reranker out."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer

from pseudorel.cli._options import (
    RERANKER_LOSSES,
    ExecutorOpt,
    RayAddressOpt,
    RerankerLossOpt,
    TeacherFusionOpt,
    TeacherModeOpt,
    TeacherPairsOpt,
    WorkersOpt,
    at_least,
    executor_from_options,
    llm_spec,
    model_exists,
    one_of,
    positive_number,
    prompt_domain,
    retriever_loss,
    retriever_specs,
    synthetic_kinds,
    writable_output,
)
from pseudorel.cli.app import app
from pseudorel.cli.label import QLBudgetOpt, QLModelOpt, QLOpt, _load_corpus, _queries_from_options
from pseudorel.data import load_dataset
from pseudorel.errors import UsageError
from pseudorel.llm.factory import make_backend, make_scorer
from pseudorel.retrieval.fusion import FUSION_METHODS
from pseudorel.teachers.llm_judge import JudgeSettings


@app.command()
def adapt(
    output: Annotated[Path, typer.Option(help="Folder for queries, labels, retriever/, reranker/ and report.json.")],
    dataset: Annotated[str | None, typer.Option(help="BEIR folder or name (its corpus).")] = None,
    corpus: Annotated[Path | None, typer.Option(help="Corpus file instead of --dataset.")] = None,
    queries_file: Annotated[Path | None, typer.Option("--queries", help="Unlabeled queries (JSONL/TSV).")] = None,
    split_queries: Annotated[
        str | None, typer.Option(help="Use the dataset's queries of this split as unlabeled queries (no judgments).")
    ] = None,
    synthetic: Annotated[str, typer.Option(help="Synthetic query kinds; empty for none.")] = "title,ict",
    synthetic_per_document: Annotated[
        int, typer.Option(help="Synthetic queries of each kind per document (ict: that many distinct sentences).")
    ] = 1,
    base_model: Annotated[str, typer.Option(help="Student initialisation.")] = "all-MiniLM-L6-v2",
    tower: Annotated[
        str,
        typer.Option(
            help="query: train the retriever's query tower against the frozen corpus index (fast); "
            "query+document: then its document tower against the frozen queries; both: fine-tune all on examples."
        ),
    ] = "query",
    loss: Annotated[
        str, typer.Option(help="Retriever loss with --tower both: infonce, bixse, kl, label_weakening, ...")
    ] = "infonce",
    epochs: Annotated[
        float | None,
        typer.Option(help="Retriever epochs (default 4 for --tower query, 1 for both; best held-out checkpoint kept)."),
    ] = None,
    learning_rates: Annotated[
        str | None,
        typer.Option(
            help="With --tower query: comma-separated learning rates, one run each; the run with the best "
            "held-out pseudo-label likelihood is kept (label-free)."
        ),
    ] = None,
    retrievers: Annotated[
        str,
        typer.Option(
            help="The teacher's retrievers, e.g. bm25,dense or bm25,dense,dense:nomic; auto: BM25 + MiniLM + "
            "nomic-embed-text-v1.5 (fetched once, ~284 MB) where nomic is usable and fits --time-budget, else "
            "BM25 + MiniLM. Its dense models may also join the shipped system's first stage."
        ),
    ] = "auto",
    reranker: Annotated[bool, typer.Option(help="Also train a cross-encoder reranker.")] = True,
    reranker_loss: RerankerLossOpt = "listwise",
    teacher_fusion: TeacherFusionOpt = "interpolate",
    teacher_mode: TeacherModeOpt = "auto",
    teacher_pairs: TeacherPairsOpt = 10_000,
    reranker_without_reader: Annotated[
        bool,
        typer.Option(
            help="Train the reranker even when no teacher that reads the pairs (--llm, --ql) labelled them "
            "(by default it is skipped then: the guard could not judge it)."
        ),
    ] = False,
    refresh_rounds: Annotated[
        int,
        typer.Option(
            help="Extra rounds in which the retriever joins the teacher and a new one learns from the new "
            "labels; each runs only if the guard kept the last round's retriever, and ships only if it beats it."
        ),
    ] = 1,
    chain: Annotated[
        bool, typer.Option(help="Let the reranker relabel all pairs before training the retriever.")
    ] = False,
    llm: Annotated[
        str | None,
        typer.Option(help="http(s)://server/v1 (comma-separated URLs: a pool of servers), gguf:NAME or a .gguf path."),
    ] = None,
    llm_model: Annotated[str, typer.Option(help="Model name on the HTTP server.")] = "default",
    llm_budget: Annotated[int, typer.Option(help="Most pairs the LLM judges.")] = 0,
    llm_timeout: Annotated[float, typer.Option(help="Seconds to wait for one LLM answer.")] = 60.0,
    llm_retries: Annotated[int, typer.Option(help="Retries of a failed LLM request.")] = 2,
    llm_queries: Annotated[int, typer.Option(help="Documents the LLM writes a query for (doc2query style).")] = 0,
    judge_domain: Annotated[
        str, typer.Option(help="generic, claim, question or topic: the corpus's terms for judging and writing queries.")
    ] = "generic",
    ql: QLOpt = None,
    ql_model: QLModelOpt = "default",
    ql_budget: QLBudgetOpt = 1000,
    time_budget: Annotated[
        float | None,
        typer.Option(help="Minutes for queries, labels and training; the students stop training when it runs out."),
    ] = None,
    evaluate_split: Annotated[
        str | None, typer.Option(help="Report test metrics on this split's qrels (evaluation only).")
    ] = None,
    executor: ExecutorOpt = "local",
    ray_address: RayAddressOpt = None,
    workers: WorkersOpt = None,
) -> None:
    """Adapt a search system to a corpus from pseudo-labels; ships only the parts the no-harm guard keeps."""
    from pseudorel.adapt import TOWERS, AdaptSettings  # start-up: loads numpy, pandas
    from pseudorel.adapt import adapt as run_adapt  # start-up: loads numpy, pandas
    from pseudorel.candidates import MiningSettings  # start-up: loads numpy, pandas
    from pseudorel.labels.pipeline import LabelSettings  # start-up: loads numpy, pandas
    from pseudorel.labels.sampled import TEACHER_MODES  # start-up: loads numpy, pandas
    from pseudorel.report import command_line  # start-up: loads numpy, pandas
    from pseudorel.teachers.query_likelihood import QLSettings  # start-up: loads numpy
    from pseudorel.training.bi_encoder import TrainSettings  # start-up: loads numpy, pandas
    from pseudorel.training.cross_encoder import CrossTrainSettings  # start-up: loads numpy, pandas
    from pseudorel.training.query_tower import QueryTowerSettings  # start-up: loads numpy, pandas

    if tower not in TOWERS:
        raise UsageError(f"--tower must be one of {', '.join(TOWERS)}; got '{tower}'")
    positive_number(epochs, "--epochs")
    positive_number(time_budget, "--time-budget")
    positive_number(llm_timeout, "--llm-timeout")
    if llm_retries < 0:
        raise UsageError(f"--llm-retries must be at least 0, got {llm_retries}")
    model_exists(base_model, "--base-model")
    kinds = synthetic_kinds(synthetic)
    specs = retriever_specs(retrievers, allow_auto=True)
    llm_spec(llm)
    llm_spec(ql, "--ql")
    at_least(ql_budget, 1, "--ql-budget")
    writable_output(output)
    if llm_queries < 0 or llm_budget < 0:
        raise UsageError("--llm-queries and --llm-budget must not be negative")
    if llm_queries and not llm:
        raise UsageError("--llm-queries needs --llm (the model that writes them)")
    at_least(refresh_rounds, 0, "--refresh-rounds")
    at_least(teacher_pairs, 1, "--teacher-pairs")
    if synthetic_per_document < 1:
        raise UsageError(f"--synthetic-per-document must be at least 1, got {synthetic_per_document}")
    grid = _learning_rates(learning_rates)
    loss_name, loss_kwargs = retriever_loss(loss)
    docs, dataset_queries, folder = _load_corpus(dataset, corpus)
    unlabeled = _queries_from_options(queries_file, split_queries, dataset_queries, folder, None, docs, 0)
    settings = AdaptSettings(
        base_model=base_model,
        synthetic_kinds=kinds,
        synthetic_per_document=synthetic_per_document,
        llm_query_docs=llm_queries if llm else 0,
        labels=LabelSettings(
            retrievers=specs,
            mining=MiningSettings(fusion=one_of(teacher_fusion, FUSION_METHODS, "--teacher-fusion")),
            llm_budget=llm_budget if llm else 0,
            judge=JudgeSettings(domain=prompt_domain(judge_domain, "--judge-domain")),
            ql_budget=ql_budget if ql else 0,
            ql=QLSettings(domain=judge_domain),
            teacher_mode=one_of(teacher_mode, TEACHER_MODES, "--teacher-mode"),
            teacher_pairs=teacher_pairs,
        ),
        retriever_tower=tower,
        query_tower=QueryTowerSettings(learning_rate_grid=grid, **({} if epochs is None else {"epochs": epochs})),
        retriever=TrainSettings(
            loss=loss_name, loss_kwargs=loss_kwargs, **({} if epochs is None else {"epochs": epochs})
        ),
        reranker=CrossTrainSettings(loss=one_of(reranker_loss, RERANKER_LOSSES, "--reranker-loss"))
        if reranker
        else None,
        chain=chain,
        refresh_rounds=refresh_rounds,
        reranker_only_with_reader=not reranker_without_reader,
        time_budget_s=None if time_budget is None else time_budget * 60,
    )
    if not unlabeled and not settings.synthetic_kinds and not settings.llm_query_docs:
        raise UsageError("no queries: give --queries, --split-queries or --synthetic")
    backend = None
    if llm:
        cache = output / "work" / "llm-cache.sqlite"
        backend = make_backend(llm, cache, model=llm_model, timeout=llm_timeout, retries=llm_retries)
    scorer = None
    if ql:
        scorer = make_scorer(ql, model=ql_model, timeout=llm_timeout, retries=llm_retries)
    evaluation = None
    if evaluate_split is not None:
        if dataset is None:
            raise UsageError("--evaluate-split needs --dataset")
        evaluation = load_dataset(dataset, splits=[evaluate_split])
    with executor_from_options(executor, ray_address, workers) as runner:
        report = run_adapt(
            docs,
            output,
            unlabeled,
            settings,
            backend,
            evaluation,
            evaluate_split or "test",
            scorer=scorer,
            command=command_line(),
            executor=runner,
        )
    teacher = report["teacher"]
    typer.echo(f"teacher: {', '.join(teacher['retrievers'])}, {teacher['mode']} ({teacher['reason']})")
    if "student" in report:
        typer.echo(f"student: {output / 'student'} ({report['student']['docs_per_second']} documents/s)")
    typer.echo(f"retriever: {output / 'retriever'}")
    if "reranker_skipped" in report:
        typer.echo(f"reranker: not trained: {report['reranker_skipped']}")
    elif reranker:
        typer.echo(f"reranker: {output / 'reranker'}")
    dropped = ", ".join(report["system"]["dropped"]) or "nothing"
    typer.echo(f"system: {report['system']['shipped']} (dropped by the guard: {dropped})")
    if "evaluation" in report:
        _print_against_baselines(report["evaluation"], evaluate_split or "test")
    typer.echo(f"total {report['seconds']['total']:.0f} s; report: {output / 'report.html'} (and report.json)")


ROWS = {
    "bm25": "BM25 (zero-shot)",
    "zero_shot": "dense (zero-shot)",
    "hybrid_zero_shot": "hybrid BM25 + dense (zero-shot; the free baseline)",  # fused as the guard's baseline
    "retriever": "adapted dense",
    "hybrid_retriever": "hybrid BM25 + adapted dense",
    "bm25+reranker": "BM25 >> adapted reranker",
    "student": "student (sampled mode)",
    "hybrid_student": "hybrid BM25 + student",
    "system": "the shipped system",
}


def _print_against_baselines(evaluation: dict, split: str) -> None:
    from rich.console import Console
    from rich.table import Table

    base = evaluation.get("hybrid_zero_shot", {}).get("nDCG@10")
    table = Table(title=f"{split} qrels (read for this report only)")
    for column in ("run", "nDCG@10", "vs baseline", "R@100"):
        table.add_column(column, justify="left" if column == "run" else "right")
    for key, label in ROWS.items():
        if key in evaluation:
            m = evaluation[key]
            delta = "" if base is None else f"{m['nDCG@10'] - base:+.4f}"
            table.add_row(label, f"{m['nDCG@10']:.4f}", delta, f"{m['R@100']:.4f}")
    Console().print(table)


def _learning_rates(text: str | None) -> tuple[float, ...]:
    if not text:
        return ()
    try:
        rates = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise UsageError(f"--learning-rates must be comma-separated numbers, got '{text}'") from None
    if not all(math.isfinite(rate) and rate > 0 for rate in rates):
        raise UsageError(f"--learning-rates must be finite and positive, got '{text}'")
    return rates
