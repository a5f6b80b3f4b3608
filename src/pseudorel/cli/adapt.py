"""``pseudorel adapt``: a corpus in, a search system out (its options: ``adapt_options.py``)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import typer

from pseudorel.cli._options import (
    ExecutorOpt,
    LateDepthOpt,
    LateMaxSecondsOpt,
    RayAddressOpt,
    RerankerLossOpt,
    TeacherFusionOpt,
    TeacherModeOpt,
    TeacherPairsOpt,
    WorkersOpt,
    executor_from_options,
)
from pseudorel.cli.adapt_options import (
    AdaptCorpusOpt,
    AdaptDatasetOpt,
    BaseModelOpt,
    ChainOpt,
    EpochsOpt,
    EvaluateSplitOpt,
    JudgeDomainOpt,
    LearningRatesOpt,
    LLMBudgetOpt,
    LLMModelOpt,
    LLMOpt,
    LLMQueriesOpt,
    LLMRetriesOpt,
    LLMTimeoutOpt,
    LossOpt,
    OutputOpt,
    PerDocumentOpt,
    QueriesFileOpt,
    RefreshRoundsOpt,
    RerankerOpt,
    RetrieversOpt,
    SplitQueriesOpt,
    SyntheticOpt,
    TimeBudgetOpt,
    TowerOpt,
    WithoutReaderOpt,
    check_options,
    settings_from_options,
)
from pseudorel.cli.app import app
from pseudorel.cli.label import QLBudgetOpt, QLModelOpt, QLOpt, _load_corpus, _queries_from_options
from pseudorel.data import load_dataset
from pseudorel.errors import UsageError
from pseudorel.llm.factory import make_backend, make_scorer


@app.command()
def adapt(
    output: OutputOpt,
    dataset: AdaptDatasetOpt = None,
    corpus: AdaptCorpusOpt = None,
    queries_file: QueriesFileOpt = None,
    split_queries: SplitQueriesOpt = None,
    synthetic: SyntheticOpt = "title,ict",
    synthetic_per_document: PerDocumentOpt = 1,
    base_model: BaseModelOpt = "all-MiniLM-L6-v2",
    tower: TowerOpt = "query",
    loss: LossOpt = "infonce",
    epochs: EpochsOpt = None,
    learning_rates: LearningRatesOpt = None,
    retrievers: RetrieversOpt = "auto",
    reranker: RerankerOpt = True,
    reranker_loss: RerankerLossOpt = "listwise",
    teacher_fusion: TeacherFusionOpt = "interpolate",
    teacher_mode: TeacherModeOpt = "auto",
    teacher_pairs: TeacherPairsOpt = 10_000,
    late_depth: LateDepthOpt = 20,
    late_max_seconds: LateMaxSecondsOpt = 30.0,
    reranker_without_reader: WithoutReaderOpt = False,
    refresh_rounds: RefreshRoundsOpt = 1,
    chain: ChainOpt = False,
    llm: LLMOpt = None,
    llm_model: LLMModelOpt = "default",
    llm_budget: LLMBudgetOpt = 0,
    llm_timeout: LLMTimeoutOpt = 60.0,
    llm_retries: LLMRetriesOpt = 2,
    llm_queries: LLMQueriesOpt = 0,
    judge_domain: JudgeDomainOpt = "generic",
    ql: QLOpt = None,
    ql_model: QLModelOpt = "default",
    ql_budget: QLBudgetOpt = 1000,
    time_budget: TimeBudgetOpt = None,
    evaluate_split: EvaluateSplitOpt = None,
    executor: ExecutorOpt = "local",
    ray_address: RayAddressOpt = None,
    workers: WorkersOpt = None,
) -> None:
    """Adapt a search system to a corpus from pseudo-labels; ships only the parts the no-harm guard keeps."""
    from pseudorel.adapt import adapt as run_adapt  # start-up: loads numpy, pandas
    from pseudorel.report import command_line  # start-up: loads numpy, pandas

    options = SimpleNamespace(**locals())
    check_options(options)
    docs, dataset_queries, folder = _load_corpus(dataset, corpus)
    unlabeled = _queries_from_options(queries_file, split_queries, dataset_queries, folder, None, docs, 0)
    settings = settings_from_options(options)
    if not unlabeled and not settings.synthetic_kinds and not settings.llm_query_docs:
        raise UsageError("no queries: give --queries, --split-queries or --synthetic")
    cache = output / "work" / "llm-cache.sqlite"
    backend = make_backend(llm, cache, llm_model, timeout=llm_timeout, retries=llm_retries) if llm else None
    scorer = make_scorer(ql, model=ql_model, timeout=llm_timeout, retries=llm_retries) if ql else None
    evaluation = None if evaluate_split is None else load_dataset(dataset, splits=[evaluate_split])
    split = evaluate_split or "test"
    with executor_from_options(executor, ray_address, workers) as runner:
        report = run_adapt(
            docs, output, unlabeled, settings, backend, evaluation, split, scorer, command_line(), runner
        )
    print_outcome(report, output, reranker)
    if report.evaluation:
        _print_against_baselines(report.evaluation, split)
    typer.echo(f"total {report.seconds['total']:.0f} s; report: {output / 'report.html'} (and report.json)")


def print_outcome(report, output: Path, reranker: bool) -> None:
    """What the run made and shipped, and what it left out and why (``report``: a RunReport)."""
    typer.echo(
        f"teacher: {', '.join(report.teacher['retrievers'])}, {report.teacher['mode']} ({report.teacher['reason']})"
    )
    if report.student:
        typer.echo(f"student: {output / 'student'} ({report.student['docs_per_second']} documents/s)")
    typer.echo(f"retriever: {output / 'retriever'}")
    if report.reranker_skipped:
        typer.echo(f"reranker: not trained: {report.reranker_skipped}")
    elif reranker:
        typer.echo(f"reranker: {output / 'reranker'}")
    if report.late_skipped:
        typer.echo(f"late stage: not offered: {report.late_skipped}")
    if report.late_lowered:
        typer.echo(f"late stage: depth lowered: {report.late_lowered}")
    dropped = ", ".join(report.system.dropped) or "nothing"
    typer.echo(f"system: {report.system.shipped} (dropped by the guard: {dropped})")


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
