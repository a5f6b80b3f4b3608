"""``adapt()``: the pipeline, stage after stage (each in ``steps.py``, cached under the output
folder and skipped when an earlier run made it from the same inputs)."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict
from pathlib import Path

from pseudorel._io import output_lock
from pseudorel.adapt.settings import STUDENT, AdaptSettings
from pseudorel.adapt.stage import Run
from pseudorel.adapt.steps import (
    chain_stage,
    choose,
    labels_stage,
    queries_stage,
    refresh_stage,
    reranker_stage,
    retriever_stage,
    student_stage,
    system_stage,
)
from pseudorel.data.types import Dataset, Document
from pseudorel.evaluation.adapted import evaluate_students
from pseudorel.labels.sampled import SAMPLED
from pseudorel.queries import Query
from pseudorel.report import build_report
from pseudorel.report.run_report import RunReport
from pseudorel.system.guard import held_out_query_ids

logger = logging.getLogger("pseudorel")


def adapt(
    corpus: dict[str, Document],
    output: str | Path,
    queries: list[Query] | None = None,
    settings: AdaptSettings | None = None,
    backend=None,
    evaluation: Dataset | None = None,
    split: str = "test",
    scorer=None,
    command: str | None = None,
    executor=None,
) -> RunReport:
    """Adapt a search system to ``corpus`` in ``output`` (which no other run may write meanwhile);
    returns the run's report, also written to ``report.json`` and ``report.html``.

    ``queries`` are unlabeled queries (synthetic ones are added), ``backend`` the LLM (judge,
    query writer), ``scorer`` the query-likelihood teacher's model, ``executor`` where the
    labelling stage's sharded work runs (``pseudorel.scale``; default: this process).
    ``evaluation``'s qrels of ``split`` are read only for the report's test metrics."""
    started = time.perf_counter()
    settings = settings or AdaptSettings()
    queries = list(queries or [])
    output = Path(output)
    with output_lock(output, "pseudorel adapt"):
        output.mkdir(parents=True, exist_ok=True)
        settings, choice, plan = choose(corpus, queries, settings)
        run = Run(output, settings, RunReport(settings=asdict(settings), teacher=choice.as_dict()), started)

        all_queries = queries_stage(run, corpus, queries, backend)
        all_labels = labels_stage(run, corpus, all_queries, plan, backend, scorer, executor)
        held_out = held_out_query_ids(all_labels, settings.guard)
        labels = all_labels[~all_labels["query_id"].isin(set(held_out))].reset_index(drop=True)
        run.report.held_out_queries = len(held_out)
        sampled = settings.labels.teacher_mode == SAMPLED
        if sampled:
            student_stage(run, corpus, all_labels, held_out)
        reranker_stage(run, corpus, labels)
        if settings.chain and run.settings.reranker is not None:
            labels = chain_stage(run, corpus, labels)
        retriever_stage(run, corpus, labels)
        retrievers = refresh_stage(run, corpus, all_queries, all_labels, held_out, executor)
        system_stage(run, corpus, all_labels, held_out, retrievers)

        if evaluation is not None and split in evaluation.qrels:
            start = time.perf_counter()
            fusion = settings.labels.mining.fusion if sampled else "rrf"  # the guard's baseline fusion
            reranker = run.settings.reranker is not None
            student = STUDENT if sampled else None
            run.report.evaluation = evaluate_students(
                evaluation, output, split, settings.base_model, fusion, reranker, student
            )
            run.done("evaluation", start)
        run.report.seconds["total"] = round(time.perf_counter() - started, 1)
        run.report.command = command
        run.report.save(output)
        logger.info("report: %s", build_report(output))
    return run.report
