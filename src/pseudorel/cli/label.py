"""``pseudorel queries`` and ``pseudorel label``: queries and pseudo-labels without judgments."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pseudorel._io import hold_output
from pseudorel.cli._options import (
    ExecutorOpt,
    RayAddressOpt,
    TeacherFusionOpt,
    TeacherPairsOpt,
    WorkersOpt,
    at_least,
    executor_from_options,
    llm_spec,
    model_exists,
    one_of,
    positive_number,
    prompt_domain,
    retriever_specs,
    synthetic_kinds,
    writable_output,
)
from pseudorel.cli.app import app
from pseudorel.data import load_dataset, read_corpus
from pseudorel.data.beir import split_query_ids
from pseudorel.errors import InputError, UsageError
from pseudorel.llm.factory import make_backend, make_scorer
from pseudorel.queries import Query, queries_from_log, read_query_file, synthetic_queries, write_queries
from pseudorel.queries.llm_queries import llm_queries
from pseudorel.retrieval.fusion import FUSION_METHODS
from pseudorel.teachers.llm_judge import JudgeSettings

DatasetOpt = Annotated[
    str | None, typer.Option(help="BEIR folder or name (its corpus and queries; qrels are not read).")
]
CorpusOpt = Annotated[Path | None, typer.Option(help="Corpus file (JSONL/CSV/TSV) instead of --dataset.")]
QLOpt = Annotated[
    str | None,
    typer.Option(
        help="Query-likelihood teacher: http(s)://server/v1 (a completions server that echoes prompt "
        "logprobs, e.g. vLLM; comma-separated URLs: a pool), gguf:NAME, a .gguf file or a transformers "
        "causal-LM folder."
    ),
]
QLModelOpt = Annotated[str, typer.Option(help="Model name on the --ql server.")]
QLBudgetOpt = Annotated[int, typer.Option(help="Most pairs the query-likelihood teacher scores (whole queries).")]


def _load_corpus(dataset: str | None, corpus: Path | None):

    if (dataset is None) == (corpus is None):
        raise UsageError("give exactly one of --dataset or --corpus")
    if corpus is not None:
        return read_corpus(corpus), {}, None
    ds = load_dataset(dataset, splits=[])
    return ds.corpus, ds.queries, ds.path


def _queries_from_options(queries_file, split_queries, dataset_queries, folder, synthetic, docs, seed):
    """Queries from a file, a dataset split (ids only, no judgments) and synthetic kinds."""

    chosen: list[Query] = []
    if queries_file is not None:
        jsonl = queries_file.suffix.lower() == ".jsonl"
        chosen += read_query_file(queries_file) if jsonl else queries_from_log(queries_file)
    if split_queries is not None:
        if folder is None:
            raise UsageError("--split-queries needs --dataset")
        ids = split_query_ids(folder, split_queries)
        chosen += [Query(qid, dataset_queries[qid]) for qid in ids if qid in dataset_queries]
    if synthetic:
        chosen += synthetic_queries(docs, [k.strip() for k in synthetic.split(",")], seed=seed)
    foreign = [q for q in chosen if q.doc_id is not None and q.doc_id not in docs]
    if foreign:
        example = foreign[0]
        raise InputError(
            queries_file,
            f"{len(foreign)} queries name a source document that is not in the corpus, e.g. "
            f"'{example.doc_id}' (query '{example.id}')",
        )
    return chosen


@app.command()
def queries(
    output: Annotated[Path, typer.Option(help="JSONL of queries with their source and source document.")],
    dataset: DatasetOpt = None,
    corpus: CorpusOpt = None,
    kinds: Annotated[str, typer.Option(help="Comma-separated: title, ict, span.")] = "title,ict",
    max_docs: Annotated[int | None, typer.Option(help="Sample this many documents.")] = None,
    seed: Annotated[int, typer.Option()] = 0,
    show: Annotated[int, typer.Option(help="Print this many queries for a person to read.")] = 10,
    llm: Annotated[str | None, typer.Option(help="Also have an LLM write queries: URL, gguf:NAME or .gguf.")] = None,
    llm_model: Annotated[str, typer.Option(help="Model name on the HTTP server.")] = "default",
    llm_per_doc: Annotated[int, typer.Option(help="LLM queries per document (deduplicated).")] = 1,
    llm_docs: Annotated[int, typer.Option(help="Documents the LLM writes queries for (a budget).")] = 100,
    llm_seconds: Annotated[float | None, typer.Option(help="Stop LLM generation after this long.")] = None,
    llm_domain: Annotated[
        str, typer.Option(help="What the LLM writes: generic (search queries), claim, question or topic.")
    ] = "generic",
) -> None:
    """Make queries from documents, each with its source document: cheap kinds, and optionally an LLM's."""
    import random

    prompt_domain(llm_domain, "--llm-domain")
    synthetic_kinds(kinds, "--kinds")
    at_least(max_docs, 1, "--max-docs")
    at_least(llm_per_doc, 1, "--llm-per-doc")
    at_least(llm_docs, 0, "--llm-docs")
    positive_number(llm_seconds, "--llm-seconds")
    llm_spec(llm)
    writable_output(output, folder=False)
    docs, _, _ = _load_corpus(dataset, corpus)
    made = synthetic_queries(docs, [k.strip() for k in kinds.split(",") if k.strip()], seed=seed, max_docs=max_docs)
    if llm:
        backend = make_backend(llm, output.parent / ".pseudorel-work" / "llm-cache.sqlite", model=llm_model)
        chosen = random.Random(seed).sample(list(docs), min(llm_docs, len(docs)))
        generated, stats = llm_queries(
            backend, docs, chosen, n=llm_per_doc, max_seconds=llm_seconds, domain=llm_domain, progress=True
        )
        made += generated
        typer.echo(f"LLM: {stats['generated']} queries, {stats['duplicates']} duplicates, {stats['failed']} failed")
    write_queries(made, output)
    for q in made[:show]:
        typer.echo(f"[{q.source}:{q.doc_id}] {q.text}")
    typer.echo(f"wrote {len(made)} queries to {output}")


@app.command()
def label(
    output: Annotated[Path, typer.Option(help="Label table (Parquet) to write.")],
    dataset: DatasetOpt = None,
    corpus: CorpusOpt = None,
    queries_file: Annotated[
        Path | None, typer.Option("--queries", help="Queries: a file from `pseudorel queries`, or a log (JSONL/TSV).")
    ] = None,
    split_queries: Annotated[
        str | None, typer.Option(help="Use the dataset's queries of this split, without reading its judgments.")
    ] = None,
    synthetic: Annotated[str | None, typer.Option(help="Also make synthetic queries of these kinds.")] = None,
    retrievers: Annotated[str, typer.Option(help="Candidate retrievers, e.g. bm25,dense,dense:MODEL.")] = "bm25,dense",
    top: Annotated[int, typer.Option(help="Top candidates per retriever.")] = 10,
    deep: Annotated[int, typer.Option(help="Deeper candidates sampled per query.")] = 5,
    teacher_fusion: TeacherFusionOpt = "interpolate",
    teacher_mode: Annotated[
        str,
        typer.Option(
            help="full: every retriever searches the whole corpus; sampled: dense models after the first read only "
            "the candidate pairs of a sample of queries (--teacher-pairs)."
        ),
    ] = "full",
    teacher_pairs: TeacherPairsOpt = 10_000,
    cross_encoder: Annotated[str | None, typer.Option(help="A CrossEncoder folder to use as a teacher.")] = None,
    llm: Annotated[
        str | None,
        typer.Option(help="http(s)://server/v1 (comma-separated URLs: a pool of servers), gguf:NAME or a .gguf path."),
    ] = None,
    llm_model: Annotated[str, typer.Option(help="Model name on the HTTP server.")] = "default",
    llm_budget: Annotated[int, typer.Option(help="Most pairs the LLM judges.")] = 0,
    llm_seconds: Annotated[float | None, typer.Option(help="Stop starting LLM judgments after this long.")] = None,
    select: Annotated[str, typer.Option(help="uncertain or random pairs for the LLM.")] = "uncertain",
    judge_domain: Annotated[str, typer.Option(help="generic, claim, question or topic.")] = "generic",
    judge_scale: Annotated[str, typer.Option(help="graded (0-3) or binary.")] = "graded",
    judge_words: Annotated[int, typer.Option(help="Passage words shown to the judge.")] = 120,
    parallel: Annotated[int, typer.Option(help="LLM requests in flight.")] = 1,
    llm_timeout: Annotated[float, typer.Option(help="Seconds to wait for one LLM answer.")] = 60.0,
    llm_retries: Annotated[int, typer.Option(help="Retries of a failed LLM request.")] = 2,
    ql: QLOpt = None,
    ql_model: QLModelOpt = "default",
    ql_budget: QLBudgetOpt = 1000,
    workdir: Annotated[Path | None, typer.Option(help="Stage cache (default: beside --output).")] = None,
    executor: ExecutorOpt = "local",
    ray_address: RayAddressOpt = None,
    workers: WorkersOpt = None,
    seed: Annotated[int, typer.Option()] = 0,
) -> None:
    """Label (query, document) pairs with cheap teachers, a budgeted LLM judge and query likelihood."""
    from pseudorel.candidates import MiningSettings  # start-up: loads numpy, pandas
    from pseudorel.labels.pipeline import LabelSettings, label_pairs  # start-up: loads numpy, pandas
    from pseudorel.labels.store import save_labels  # start-up: loads pandas
    from pseudorel.teachers.query_likelihood import QLSettings  # start-up: loads numpy

    specs = retriever_specs(retrievers)
    at_least(top, 1, "--top")
    at_least(deep, 0, "--deep")
    at_least(llm_budget, 0, "--llm-budget")
    at_least(ql_budget, 1, "--ql-budget")
    at_least(teacher_pairs, 1, "--teacher-pairs")
    llm_spec(ql, "--ql")
    at_least(judge_words, 1, "--judge-words")
    at_least(parallel, 1, "--parallel")
    at_least(llm_retries, 0, "--llm-retries")
    positive_number(llm_timeout, "--llm-timeout")
    positive_number(llm_seconds, "--llm-seconds")
    one_of(select, ("uncertain", "random"), "--select")
    one_of(judge_scale, ("graded", "binary"), "--judge-scale")
    synthetic_kinds(synthetic)
    llm_spec(llm)
    if cross_encoder is not None:
        model_exists(cross_encoder, "--cross-encoder")
    writable_output(output, folder=False)
    docs, dataset_queries, folder = _load_corpus(dataset, corpus)
    chosen = _queries_from_options(queries_file, split_queries, dataset_queries, folder, synthetic, docs, seed)
    if not chosen:
        raise UsageError("no queries: give --queries, --split-queries or --synthetic")
    settings = LabelSettings(
        retrievers=specs,
        mining=MiningSettings(
            top=top, deep=deep, seed=seed, fusion=one_of(teacher_fusion, FUSION_METHODS, "--teacher-fusion")
        ),
        cross_encoder=cross_encoder,
        llm_budget=llm_budget if llm else 0,
        llm_seconds=llm_seconds,
        llm_select=select,
        judge=JudgeSettings(
            scale=judge_scale,
            domain=prompt_domain(judge_domain, "--judge-domain"),
            max_passage_words=judge_words,
            parallel=parallel,
        ),
        ql_budget=ql_budget if ql else 0,
        ql=QLSettings(domain=prompt_domain(judge_domain, "--judge-domain"), max_passage_words=judge_words),
        teacher_mode=one_of(teacher_mode, ("full", "sampled"), "--teacher-mode"),
        teacher_pairs=teacher_pairs,
        seed=seed,
    )
    workdir = workdir or output.parent / ".pseudorel-work"

    hold_output(workdir, "pseudorel label")  # its caches and shards are one run's at a time
    backend = None
    if llm:
        cache = workdir / "llm-cache.sqlite"
        backend = make_backend(llm, cache, model=llm_model, parallel=parallel, timeout=llm_timeout, retries=llm_retries)
    scorer = None
    if ql:
        scorer = make_scorer(ql, model=ql_model, timeout=llm_timeout, retries=llm_retries)
    with executor_from_options(executor, ray_address, workers) as runner:
        frame, stats = label_pairs(docs, chosen, settings, workdir, backend=backend, scorer=scorer, executor=runner)
    save_labels(frame, output)
    typer.echo(f"labelled {stats['pairs']} pairs for {stats['queries']} queries -> {output}")
    if stats.get("teacher_pass"):
        t = stats["teacher_pass"]
        typer.echo(
            f"sampled teacher: {t['pairs']} pairs of {t['queries']} queries, {t['documents_read']} documents read"
        )
    if "llm" in stats:
        s = stats["llm"]
        cached = f", {backend.hits} from cache" if backend is not None else ""
        typer.echo(
            f"LLM: {s['judged']} judged, {s['failed']} failed of {s['requested']} in {s['seconds']:.1f} s{cached}"
        )
    if "query_likelihood" in stats:
        s = stats["query_likelihood"]
        typer.echo(f"query likelihood: {s['scored']} of {s['requested']} pairs scored in {s['seconds']:.1f} s")
