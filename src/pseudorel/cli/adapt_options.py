"""The options of ``pseudorel adapt`` (one annotated type each, so the command reads as a list)
and :func:`settings_from_options`, the one function that turns them into ``AdaptSettings``."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated

import typer

from pseudorel.cli._options import (
    RERANKER_LOSSES,
    at_least,
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
from pseudorel.errors import UsageError

OutputOpt = Annotated[Path, typer.Option(help="Folder for queries, labels, retriever/, reranker/ and report.json.")]
AdaptDatasetOpt = Annotated[str | None, typer.Option(help="BEIR folder or name (its corpus).")]
AdaptCorpusOpt = Annotated[Path | None, typer.Option(help="Corpus file instead of --dataset.")]
QueriesFileOpt = Annotated[Path | None, typer.Option("--queries", help="Unlabeled queries (JSONL/TSV).")]
SplitQueriesOpt = Annotated[
    str | None, typer.Option(help="Use the dataset's queries of this split as unlabeled queries (no judgments).")
]
SyntheticOpt = Annotated[str, typer.Option(help="Synthetic query kinds; empty for none.")]
PerDocumentOpt = Annotated[
    int, typer.Option(help="Synthetic queries of each kind per document (ict: that many distinct sentences).")
]
BaseModelOpt = Annotated[str, typer.Option(help="Student initialisation.")]
TowerOpt = Annotated[
    str,
    typer.Option(
        help="query: train the retriever's query tower against the frozen corpus index (fast); "
        "query+document: then its document tower against the frozen queries; both: fine-tune all on examples."
    ),
]
LossOpt = Annotated[
    str, typer.Option(help="Retriever loss with --tower both: infonce, bixse, kl, label_weakening, ...")
]
EpochsOpt = Annotated[
    float | None,
    typer.Option(help="Retriever epochs (default 4 for --tower query, 1 for both; best held-out checkpoint kept)."),
]
LearningRatesOpt = Annotated[
    str | None,
    typer.Option(
        help="With --tower query: comma-separated learning rates, one run each; the run with the best "
        "held-out pseudo-label likelihood is kept (label-free)."
    ),
]
RetrieversOpt = Annotated[
    str,
    typer.Option(
        help="The teacher's retrievers, e.g. bm25,dense or bm25,dense,dense:nomic; auto: BM25 + MiniLM + "
        "nomic-embed-text-v1.5 (fetched once, ~284 MB) where nomic is usable and fits --time-budget, else "
        "BM25 + MiniLM. Its dense models may also join the shipped system's first stage."
    ),
]
RerankerOpt = Annotated[bool, typer.Option(help="Also train a cross-encoder reranker.")]
WithoutReaderOpt = Annotated[
    bool,
    typer.Option(
        help="Train the reranker even when no teacher that reads the pairs (--llm, --ql) labelled them "
        "(by default it is skipped then: the guard could not judge it)."
    ),
]
RefreshRoundsOpt = Annotated[
    int,
    typer.Option(
        help="Extra rounds in which the retriever joins the teacher and a new one learns from the new "
        "labels; each runs only if the guard kept the last round's retriever, and ships only if it beats it."
    ),
]
ChainOpt = Annotated[bool, typer.Option(help="Let the reranker relabel all pairs before training the retriever.")]
LLMOpt = Annotated[
    str | None,
    typer.Option(help="http(s)://server/v1 (comma-separated URLs: a pool of servers), gguf:NAME or a .gguf path."),
]
LLMModelOpt = Annotated[str, typer.Option(help="Model name on the HTTP server.")]
LLMBudgetOpt = Annotated[int, typer.Option(help="Most pairs the LLM judges.")]
LLMTimeoutOpt = Annotated[float, typer.Option(help="Seconds to wait for one LLM answer.")]
LLMRetriesOpt = Annotated[int, typer.Option(help="Retries of a failed LLM request.")]
LLMQueriesOpt = Annotated[int, typer.Option(help="Documents the LLM writes a query for (doc2query style).")]
JudgeDomainOpt = Annotated[
    str, typer.Option(help="generic, claim, question or topic: the corpus's terms for judging and writing queries.")
]
TimeBudgetOpt = Annotated[
    float | None,
    typer.Option(help="Minutes for queries, labels and training; the students stop training when it runs out."),
]
EvaluateSplitOpt = Annotated[
    str | None, typer.Option(help="Report test metrics on this split's qrels (evaluation only).")
]


def check_options(o: SimpleNamespace) -> None:
    """Every option value that can be checked before any work starts: a bad one is a UsageError."""
    from pseudorel.adapt import TOWERS  # start-up: loads numpy, pandas

    if o.tower not in TOWERS:
        raise UsageError(f"--tower must be one of {', '.join(TOWERS)}; got '{o.tower}'")
    positive_number(o.epochs, "--epochs")
    positive_number(o.time_budget, "--time-budget")
    positive_number(o.llm_timeout, "--llm-timeout")
    if o.llm_retries < 0:
        raise UsageError(f"--llm-retries must be at least 0, got {o.llm_retries}")
    model_exists(o.base_model, "--base-model")
    synthetic_kinds(o.synthetic)
    retriever_specs(o.retrievers, allow_auto=True)
    llm_spec(o.llm)
    llm_spec(o.ql, "--ql")
    at_least(o.ql_budget, 1, "--ql-budget")
    writable_output(o.output)
    if o.llm_queries < 0 or o.llm_budget < 0:
        raise UsageError("--llm-queries and --llm-budget must not be negative")
    if o.llm_queries and not o.llm:
        raise UsageError("--llm-queries needs --llm (the model that writes them)")
    at_least(o.refresh_rounds, 0, "--refresh-rounds")
    at_least(o.teacher_pairs, 1, "--teacher-pairs")
    at_least(o.late_depth, 0, "--late-depth")
    positive_number(o.late_max_seconds, "--late-max-seconds")
    if o.synthetic_per_document < 1:
        raise UsageError(f"--synthetic-per-document must be at least 1, got {o.synthetic_per_document}")
    learning_rates(o.learning_rates)
    retriever_loss(o.loss)
    if o.evaluate_split is not None and o.dataset is None:
        raise UsageError("--evaluate-split needs --dataset")


def settings_from_options(o: SimpleNamespace):
    """The ``AdaptSettings`` the options of ``pseudorel adapt`` (``o``, by name) ask for."""
    from pseudorel.adapt import AdaptSettings  # start-up: loads numpy, pandas
    from pseudorel.candidates import MiningSettings  # start-up: loads numpy, pandas
    from pseudorel.labels.pipeline import LabelSettings  # start-up: loads numpy, pandas
    from pseudorel.labels.sampled import TEACHER_MODES  # start-up: loads numpy, pandas
    from pseudorel.retrieval.fusion import FUSION_METHODS  # start-up: loads numpy
    from pseudorel.teachers.llm_judge import JudgeSettings  # start-up: loads numpy
    from pseudorel.teachers.query_likelihood import QLSettings  # start-up: loads numpy
    from pseudorel.training.bi_encoder import TrainSettings  # start-up: loads numpy, pandas
    from pseudorel.training.cross_encoder import CrossTrainSettings  # start-up: loads numpy, pandas
    from pseudorel.training.query_tower import QueryTowerSettings  # start-up: loads numpy, pandas

    epochs = {} if o.epochs is None else {"epochs": o.epochs}
    loss_name, loss_kwargs = retriever_loss(o.loss)
    reranker_loss = one_of(o.reranker_loss, RERANKER_LOSSES, "--reranker-loss")
    return AdaptSettings(
        base_model=o.base_model,
        synthetic_kinds=synthetic_kinds(o.synthetic),
        synthetic_per_document=o.synthetic_per_document,
        llm_query_docs=o.llm_queries if o.llm else 0,
        labels=LabelSettings(
            retrievers=retriever_specs(o.retrievers, allow_auto=True),
            mining=MiningSettings(fusion=one_of(o.teacher_fusion, FUSION_METHODS, "--teacher-fusion")),
            llm_budget=o.llm_budget if o.llm else 0,
            judge=JudgeSettings(domain=prompt_domain(o.judge_domain, "--judge-domain")),
            ql_budget=o.ql_budget if o.ql else 0,
            ql=QLSettings(domain=o.judge_domain),
            teacher_mode=one_of(o.teacher_mode, TEACHER_MODES, "--teacher-mode"),
            teacher_pairs=o.teacher_pairs,
        ),
        late_depth=o.late_depth,
        late_max_seconds=o.late_max_seconds,
        retriever_tower=o.tower,
        query_tower=QueryTowerSettings(learning_rate_grid=learning_rates(o.learning_rates), **epochs),
        retriever=TrainSettings(loss=loss_name, loss_kwargs=loss_kwargs, **epochs),
        reranker=CrossTrainSettings(loss=reranker_loss) if o.reranker else None,
        chain=o.chain,
        refresh_rounds=o.refresh_rounds,
        reranker_only_with_reader=not o.reranker_without_reader,
        time_budget_s=None if o.time_budget is None else o.time_budget * 60,
    )


def learning_rates(text: str | None) -> tuple[float, ...]:
    if not text:
        return ()
    try:
        rates = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise UsageError(f"--learning-rates must be comma-separated numbers, got '{text}'") from None
    if not all(math.isfinite(rate) and rate > 0 for rate in rates):
        raise UsageError(f"--learning-rates must be finite and positive, got '{text}'")
    return rates
