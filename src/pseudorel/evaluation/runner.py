"""Run a retriever over a dataset split, evaluate it, and save run, metrics and per-query scores."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from pseudorel._io import atomic_write
from pseudorel.data.registry import load_dataset
from pseudorel.data.trec import write_run
from pseudorel.data.types import Dataset, Run
from pseudorel.errors import InputError
from pseudorel.evaluation.metrics import DEFAULT_MEASURES, Evaluation, evaluate_run
from pseudorel.retrieval.factory import build_retriever, parse_spec


@dataclass
class RetrievalReport:
    dataset: str
    retriever: str
    split: str
    run: Run
    evaluation: Evaluation
    seconds: dict[str, float] = field(default_factory=dict)


def evaluate_retriever(
    dataset: str | Dataset,
    retriever: str = "bm25",
    split: str = "test",
    top_k: int = 100,
    measures: tuple[str, ...] = DEFAULT_MEASURES,
    rerank: str | None = None,
    rerank_depth: int = 100,
    **dense_options,
) -> RetrievalReport:
    """Retrieve for the judged queries of ``split`` and score the run against its qrels; with
    ``rerank`` (a CrossEncoder folder), its scores reorder each query's top ``rerank_depth``."""

    parse_spec(retriever)  # fail on a bad spec before loading anything
    start = time.perf_counter()
    data = dataset if isinstance(dataset, Dataset) else load_dataset(dataset, splits=[split])
    if split not in data.qrels:
        raise InputError(data.path, f"dataset has no qrels for split '{split}'")
    queries = data.split_queries(split)
    seconds = {"load": time.perf_counter() - start}

    start = time.perf_counter()
    model = build_retriever(retriever, data.corpus, **dense_options)
    seconds["index"] = time.perf_counter() - start
    start = time.perf_counter()
    run = model.search(queries, top_k=top_k)
    seconds["search"] = time.perf_counter() - start
    name = retriever
    if rerank is not None:
        from pseudorel.system.rerank import rerank_run  # start-up: loads pandas

        start = time.perf_counter()
        run = rerank_run(run, queries, data.corpus, rerank, depth=rerank_depth)
        seconds["rerank"] = time.perf_counter() - start
        name = f"{retriever} >> rerank top {rerank_depth}"
    evaluation = evaluate_run(data.qrels[split], run, measures)
    return RetrievalReport(data.name, name, split, run, evaluation, seconds)


def evaluate_system(
    dataset: str | Dataset, system: str | Path, split: str = "test", top_k: int = 100, measures=DEFAULT_MEASURES
) -> RetrievalReport:
    """A saved system (``pseudorel adapt``'s folder) on the judged queries of ``split``; the
    dataset's corpus must be the one the system was built on."""
    from pseudorel.fingerprints import corpus_digest  # start-up: loads pandas
    from pseudorel.system import SearchSystem  # start-up: loads pandas

    start = time.perf_counter()
    engine = SearchSystem.load(system)
    data = dataset if isinstance(dataset, Dataset) else load_dataset(dataset, splits=[split])
    if split not in data.qrels:
        raise InputError(data.path, f"dataset has no qrels for split '{split}'")
    if corpus_digest(data.corpus) != engine.spec.corpus_digest:
        raise InputError(system, f"the system was built on another corpus than {data.name}'s")
    queries = data.split_queries(split)
    seconds = {"load": time.perf_counter() - start}
    start = time.perf_counter()
    run = engine.search(queries, top_k)
    seconds["search"] = time.perf_counter() - start
    evaluation = evaluate_run(data.qrels[split], run, measures)
    return RetrievalReport(data.name, f"system: {engine.spec.describe()}", split, run, evaluation, seconds)


def save_report(report: RetrievalReport, output: str | Path) -> dict[str, Path]:
    """Write ``run.trec``, ``metrics.json`` (flat) and ``per_query.tsv`` under ``output``."""
    output = Path(output)
    paths = {"run": output / "run.trec", "metrics": output / "metrics.json", "per_query": output / "per_query.tsv"}
    write_run(report.run, paths["run"], tag=report.retriever.replace(" ", "_"))
    with atomic_write(paths["metrics"]) as f:
        json.dump(report.evaluation.aggregate, f, indent=2)
        f.write("\n")
    names = list(report.evaluation.aggregate)
    with atomic_write(paths["per_query"]) as f:
        f.write("\t".join(["query_id", *names]) + "\n")
        for qid, scores in report.evaluation.per_query.items():
            f.write("\t".join([qid, *(f"{scores[n]:.6f}" for n in names)]) + "\n")
    return paths
