"""The stages of ``adapt``, one function each, in the order ``adapt()`` calls them. Each takes
the :class:`~pseudorel.adapt.stage.Run` and what earlier stages made, records its wall time
and outcome in the run's report, and caches what it makes under the output folder."""

from __future__ import annotations

import json
import logging
import random
import shutil
import time
from dataclasses import replace

import pandas as pd

from pseudorel._io import atomic_write
from pseudorel.adapt.refresh import refresh_rounds
from pseudorel.adapt.settings import QUERY_TOWER_SHARE, RERANKER_SHARE, STUDENT, STUDENT_SHARE, AdaptSettings
from pseudorel.adapt.stage import Run
from pseudorel.adapt.students import relabel_with_reranker, teacher_name, train_reranker, train_retriever
from pseudorel.data.types import Document
from pseudorel.fingerprints import corpus_digest, fingerprint, frame_digest, model_id, queries_digest
from pseudorel.labels.pipeline import label_pairs, teacher_model_ids
from pseudorel.labels.sampled import SAMPLED, split_teacher
from pseudorel.labels.store import load_labels, save_labels
from pseudorel.labels.teacher_choice import (
    LENGTH_SAMPLE,
    TeacherChoice,
    choose_teacher,
    corpus_pass_plan,
    measure_docs_per_second,
    plan_line,
    speed_sample,
    with_actuals,
)
from pseudorel.queries import Query, read_query_file, synthetic_queries, write_queries
from pseudorel.queries.llm_queries import llm_queries
from pseudorel.report.run_report import SystemChoice
from pseudorel.retrieval.factory import dense_models
from pseudorel.system import SearchSystem
from pseudorel.system.select import select_system
from pseudorel.system.spec import LateStage, SystemSpec
from pseudorel.teachers.registry import reads_pairs
from pseudorel.training._run import RUN_MARKER
from pseudorel.training.corpus_student import train_corpus_student

logger = logging.getLogger("pseudorel")

NO_READER = (
    "no teacher that reads the documents (LLM judge, query likelihood, cross-encoder) labelled the pairs, so "
    "the guard could only judge a reranker by its agreement with the first stage's own fusion, which it cannot "
    "beat (bench/results/system: dropped on every collection); add --llm or --ql, or --reranker-without-reader"
)


def choose(
    corpus: dict[str, Document], queries: list[Query], settings: AdaptSettings
) -> tuple[AdaptSettings, TeacherChoice, dict]:
    """The teacher this machine can afford for this corpus (and whether it reads all of it or a
    sample), ``settings`` with that teacher, and the plan of its corpus passes."""
    made = len(settings.synthetic_kinds) * min(len(corpus), settings.max_synthetic_docs or len(corpus))

    def measure(model: str) -> float:
        lengths = speed_sample(corpus, settings.seed, LENGTH_SAMPLE)
        return measure_docs_per_second(model, speed_sample(corpus, settings.seed), lengths, len(corpus))

    labels = settings.labels
    choice = choose_teacher(
        labels.retrievers,
        len(corpus),
        len(queries) + made,
        settings.time_budget_s,
        mode=labels.teacher_mode,
        teacher_pairs=labels.teacher_pairs,
        measure=measure,
    )
    settings = replace(settings, labels=replace(labels, retrievers=choice.retrievers, teacher_mode=choice.mode))
    logger.info("teacher: %s, %s mode (%s)", ", ".join(choice.retrievers), choice.mode, choice.reason)
    plan = corpus_pass_plan(choice.retrievers, len(corpus), choice, measure)
    for model, step in plan.items():
        logger.info("plan: %s", plan_line(model, step))
    return settings, choice, plan


def queries_stage(run: Run, corpus: dict[str, Document], queries: list[Query], backend=None) -> list[Query]:
    """The user's queries and the synthetic (and LLM-written) ones, in ``queries.jsonl``."""
    start, settings = time.perf_counter(), run.settings
    key = fingerprint(
        corpus_digest(corpus),
        queries_digest(queries),
        [settings.synthetic_kinds, settings.max_synthetic_docs, settings.synthetic_per_document, settings.seed],
        [settings.llm_query_docs, settings.labels.judge.domain, _id(backend)] if settings.llm_query_docs else None,
    )
    path = run.output / "queries.jsonl"

    def make() -> list[Query]:
        made = queries + made_queries(corpus, settings, backend)
        write_queries(made, path)
        return made

    all_queries = run.cached_stage("queries", key, path, make, read_query_file)
    run.report.queries = {
        "unlabeled": sum(not q.synthetic for q in all_queries),
        "synthetic": sum(q.synthetic for q in all_queries),
        "llm": sum(q.source == "llm" for q in all_queries),
    }
    run.done("queries", start, ", ".join(f"{v} {k}" for k, v in run.report.queries.items()))
    return all_queries


def labels_stage(
    run: Run, corpus, queries: list[Query], plan: dict, backend=None, scorer=None, executor=None
) -> pd.DataFrame:
    """Every query's candidates, labelled by the teachers (``labels.parquet``); what the teachers
    read is kept beside them (``work/label_stats.json``) so a reusing run reports it too."""
    start, labels = time.perf_counter(), run.settings.labels
    stats_path = run.output / "work" / "label_stats.json"
    key = fingerprint(
        run.stages.key("queries"),
        labels,
        teacher_model_ids(labels),
        _id(backend) if labels.llm_budget else None,
        _id(scorer) if labels.ql_budget else None,
    )
    path = run.output / "labels.parquet"

    def make() -> pd.DataFrame:
        made, stats = label_pairs(
            corpus, queries, labels, run.output / "work", backend=backend, scorer=scorer, executor=executor
        )
        with atomic_write(stats_path) as f:
            json.dump(stats, f, indent=2, default=str)
        save_labels(made, path)
        return made

    pairs = run.cached_stage("labels", key, path, make, load_labels)
    stats = _earlier_stats(stats_path)
    run.report.label_stats = stats
    run.report.teacher_pass = stats.get("teacher_pass")
    run.report.corpus_passes = with_actuals(plan, stats.get("corpus_passes"))
    run.done("labels", start, f"{len(pairs)} pairs for {pairs['query_id'].nunique()} queries")
    return pairs


def student_stage(run: Run, corpus, labels: pd.DataFrame, held_out: list[str]) -> None:
    """Sampled mode: the student that carries the expensive teacher to the whole corpus."""
    start, settings = time.perf_counter(), run.settings
    if settings.student_kind == "embedding":
        student_settings = run.within_budget(settings.student, STUDENT_SHARE)
    else:
        student_settings = run.within_budget(settings.query_tower, STUDENT_SHARE)
    teacher_spec = split_teacher(settings.labels.retrievers)[1][0]
    run.report.student = train_corpus_student(
        settings.student_kind,
        settings.base_model,
        teacher_spec,
        labels,
        corpus,
        held_out,
        run.output / STUDENT,
        student_settings,
    )
    run.done("student", start, f"distilled from {run.report.student['documents']} documents")


def reranker_stage(run: Run, corpus, labels: pd.DataFrame) -> None:
    """The cross-encoder student (``reranker/``), unless no teacher that reads the pairs labelled
    them (then ``run.settings.reranker`` becomes None and an earlier run's reranker is removed)."""
    path = run.output / "reranker"
    settings = run.settings
    if settings.reranker is not None and settings.reranker_only_with_reader and not reads_pairs(labels):
        run.report.reranker_skipped = NO_READER
        logger.info("reranker: not trained: %s", NO_READER)
        run.settings = replace(settings, reranker=None)
        if (path / RUN_MARKER).is_file():  # an earlier run's reranker: not part of this run
            shutil.rmtree(path)
    if run.settings.reranker is not None:
        start = time.perf_counter()
        budgeted = replace(settings, reranker=run.within_budget(settings.reranker, RERANKER_SHARE))
        run.report.reranker_pairs = train_reranker(labels, corpus, path, budgeted)
        run.done("reranker", start, f"trained on {run.report.reranker_pairs} pairs")


def chain_stage(run: Run, corpus, labels: pd.DataFrame) -> pd.DataFrame:
    """The reranker relabels every pair (``labels_chain.parquet``); after it, each query's top
    reranked candidate is the retriever's positive (``chain_positives_by_rank``)."""
    start = time.perf_counter()
    reranker, path = run.output / "reranker", run.output / "labels_chain.parquet"
    key = fingerprint(frame_digest(labels), model_id(str(reranker)))

    def make() -> pd.DataFrame:
        path.unlink(missing_ok=True)
        return relabel_with_reranker(labels, corpus, reranker, path)

    relabelled = run.cached_stage("chain", key, path, make, load_labels)
    if run.settings.chain_positives_by_rank:
        run.settings = replace(run.settings, examples=replace(run.settings.examples, positive_threshold=None))
    run.done("chain", start)
    return relabelled


def retriever_settings(run: Run) -> AdaptSettings:
    """The settings a retriever trains with: its towers limited to the time left now."""
    settings = run.settings
    two_stages = settings.retriever_tower == "query+document"
    return replace(
        settings,
        query_tower=run.within_budget(settings.query_tower, QUERY_TOWER_SHARE if two_stages else 1.0),
        document_tower=run.within_budget(settings.document_tower),
        retriever=run.within_budget(settings.retriever),
    )


def retriever_stage(run: Run, corpus, labels: pd.DataFrame) -> None:
    """The bi-encoder student (``retriever/``), as ``retriever_tower`` says."""
    start = time.perf_counter()
    teacher = "cross-encoder student" if run.settings.chain else teacher_name(labels)
    path, query_stage = run.output / "retriever", run.output / "query_tower"
    run.report.examples = train_retriever(labels, corpus, path, retriever_settings(run), teacher, query_stage)
    run.done("retriever", start, f"trained on {run.report.examples} queries or examples")


def refresh_stage(
    run: Run, corpus, queries: list[Query], labels: pd.DataFrame, held_out: list[str], executor=None
) -> tuple[str, ...]:
    """Refresh rounds where they apply; returns the retrievers the guard may choose from."""
    settings = run.settings
    if settings.refresh_rounds <= 0:
        return ("retriever",)
    why_not = None
    if settings.labels.teacher_mode == SAMPLED:
        why_not = "not in sampled mode (the teacher read a sample)"
    elif settings.chain:
        why_not = "not with --chain (its labels are the reranker's)"
    if why_not:
        run.report.refresh = [{"round": 2, "ran": False, "reason": why_not}]
        return ("retriever",)
    start = time.perf_counter()
    names, run.report.refresh = refresh_rounds(
        corpus, queries, labels, held_out, run, retriever_settings(run), executor=executor
    )
    run.done("refresh", start, "; ".join(r.get("reason") or f"round {r['round']} trained" for r in run.report.refresh))
    return tuple(names)


def system_stage(run: Run, corpus, labels: pd.DataFrame, held_out: list[str], retrievers: tuple[str, ...]) -> None:
    """The guard chooses the system's parts on the held-out queries; the output folder becomes a
    system folder (``system.json``, ``corpus.jsonl``)."""
    start = time.perf_counter()
    sampled = run.settings.labels.teacher_mode == SAMPLED
    rate = (run.report.teacher or {}).get("estimates", {}).get("teacher_docs_per_second")
    late = None
    if sampled:
        late, why = late_stage(run.settings, rate)
        if late is None:
            run.report.late_skipped = why
        else:
            run.report.late_lowered = why
        if why:
            logger.info("late stage: %s: %s", "not offered" if late is None else "depth lowered", why)
    run.report.system, spec = build_system(
        corpus, labels, held_out, run.output, run.settings, retrievers, sampled, late
    )
    run.done("system", start, f"ships {run.report.system.shipped}")
    late = spec.late
    if late is not None:  # what searching will cost: the teacher reads each query's top documents
        cost = f"about {late.depth / rate:.0f} s at the {rate:.1f} documents/s measured here" if rate else "unmeasured"
        logger.info(
            "search: %s reads up to %d documents a query (each once, then cached): %s for a query none of "
            "whose documents it has read before",
            late.model,
            late.depth,
            cost,
        )


def build_system(
    corpus: dict[str, Document],
    labels: pd.DataFrame,
    held_out: list[str],
    output,
    settings: AdaptSettings,
    retrievers: tuple[str, ...] = ("retriever",),
    sampled: bool = False,
    late: LateStage | None = None,
) -> tuple[SystemChoice, SystemSpec]:
    """Let the guard choose the system's parts, save ``output`` as a system folder and return the
    choice and the spec saved; ``late``: the search-time stage sampled mode offers (see :func:`late_stage`)."""
    spec, decisions = select_system(
        corpus,
        labels,
        held_out,
        output,
        settings.base_model,
        retrievers,
        "reranker" if settings.reranker is not None else None,
        settings.guard,
        dense_models(settings.labels.retrievers),
        teacher_fusion=settings.labels.mining.fusion,
        student=STUDENT if sampled else None,
        sampled=sampled,
        late=late if sampled else None,
    )
    SearchSystem(spec, corpus, output).save(output)
    choice = SystemChoice(
        shipped=spec.describe(),
        dropped=[d.part for d in decisions if not d.kept and d.part != "system"],
        decisions=[d.as_dict() for d in decisions],
    )
    return choice, spec


# a late stage shallower than a page of results would leave some of the first page unread by the teacher
MIN_LATE_DEPTH = 10


def late_stage(settings: AdaptSettings, teacher_rate: float | None = None) -> tuple[LateStage | None, str | None]:
    """Sampled mode's offer of the expensive teacher at search time, and why it departs from the
    request: None where ``late_depth`` is 0, or where a search none of whose documents it has read
    would wait longer than ``late_max_seconds`` at ``teacher_rate`` (its documents/s measured here;
    None: not measured) even over one page (``MIN_LATE_DEPTH``); a lower depth where that fits."""
    expensive = split_teacher(settings.labels.retrievers)[1]
    if not settings.late_depth or not expensive:
        return None, "--late-depth 0" if expensive else None
    late = LateStage(dense_models(expensive)[0], settings.late_depth)
    limit = settings.late_max_seconds
    if teacher_rate and limit is not None and late.depth / teacher_rate > limit:
        why = (
            f"{late.model} reads {teacher_rate:.2f} documents/s here, so a search over {late.depth} documents it "
            f"has not read would wait about {late.depth / teacher_rate:.0f} s, over the {limit:g} s limit "
            "(--late-max-seconds)"
        )
        fits = int(teacher_rate * limit)
        if fits < min(MIN_LATE_DEPTH, late.depth):
            return None, why
        lowered = f"{why}; depth lowered to {fits} (about {fits / teacher_rate:.0f} s)"
        return LateStage(late.model, fits, late.weight), lowered
    return late, None


def made_queries(corpus: dict[str, Document], settings: AdaptSettings, backend=None) -> list[Query]:
    """Synthetic queries, and LLM-written ones for a seeded sample of ``llm_query_docs`` documents
    when a backend is given (its answers are cached, so an interrupted run resumes)."""
    made = synthetic_queries(
        corpus,
        settings.synthetic_kinds,
        seed=settings.seed,
        max_docs=settings.max_synthetic_docs,
        per_document=settings.synthetic_per_document,
    )
    if backend is not None and settings.llm_query_docs > 0:
        docs = random.Random(settings.seed).sample(sorted(corpus), min(settings.llm_query_docs, len(corpus)))
        written, stats = llm_queries(backend, corpus, docs, domain=settings.labels.judge.domain, progress=True)
        logger.info(
            "LLM wrote %d queries (%d duplicates, %d failed)",
            *(stats[k] for k in ("generated", "duplicates", "failed")),
        )
        made += written
    return made


def _id(model) -> str | None:
    return getattr(model, "model_id", None)


def _earlier_stats(path) -> dict:
    try:
        stats = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return stats if isinstance(stats, dict) else {}
