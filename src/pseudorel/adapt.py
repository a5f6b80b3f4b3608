"""``pseudorel adapt``: from a corpus (and optional unlabeled queries) to a trained retriever
and reranker, with no relevance judgments.

Stages, each cached under the output folder and skipped when its result exists:
1. queries: the user's unlabeled queries plus cheap synthetic ones (title, inverse cloze) and,
   given an LLM and ``llm_query_docs``, LLM-written ones framed in the judge's domain;
2. labels: candidates from BM25 and dense retrieval, calibrated cheap teachers, optional
   budgeted LLM judge (``labels.parquet``);
3. reranker: a cross-encoder student trained on confident positives and hard negatives
   from those labels (``reranker/``);
4. chain (optional): the reranker relabels every candidate pair, cheaply;
5. retriever: a bi-encoder student trained on the labels (``retriever/``): by default only its
   query tower, against the corpus embedded once by the base model (fast on CPU, and an index
   built with the base model stays valid); ``retriever_tower="query+document"`` then trains the
   document tower against the frozen training queries (``query_tower/`` holds the first stage);
   ``retriever_tower="both"`` fine-tunes the whole model on (query, positive, negatives);
   refresh (``refresh_rounds``): if the guard would keep the retriever, it joins the teacher,
   the labels are recomputed and a new retriever learns from them (``refresh.py``);
6. system: BM25 fused with the retriever, then the reranker, each part kept only if held-out
   pseudo-labels (queries no student trained on) say it beats what it replaces; the output
   folder becomes a system folder (``system.json``, ``corpus.jsonl``) for ``pseudorel search``;
7. report: timings, the guard's decisions, and test-set metrics when the caller passes qrels
   (evaluation only), in ``report.json`` and, at a glance, ``report.html``.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import pandas as pd

from pseudorel._io import atomic_write, output_lock
from pseudorel.data.trec import write_run
from pseudorel.data.types import Dataset, Document
from pseudorel.errors import PseudorelError
from pseudorel.evaluation.metrics import evaluate_run
from pseudorel.fingerprints import StageRecord, corpus_digest, fingerprint, frame_digest, model_id, queries_digest
from pseudorel.labels.pipeline import LabelSettings, label_pairs, teacher_model_ids
from pseudorel.labels.sampled import SAMPLED, split_teacher
from pseudorel.labels.store import load_labels, save_labels
from pseudorel.labels.teacher_choice import (
    AUTO,
    LENGTH_SAMPLE,
    choose_teacher,
    corpus_pass_plan,
    measure_docs_per_second,
    plan_line,
    speed_sample,
    with_actuals,
)
from pseudorel.queries import Query, read_query_file, synthetic_queries, write_queries
from pseudorel.queries.llm_queries import llm_queries
from pseudorel.refresh import refresh_rounds
from pseudorel.report import build_report
from pseudorel.retrieval.bm25 import BM25Retriever
from pseudorel.retrieval.dense import DenseRetriever
from pseudorel.retrieval.factory import dense_models
from pseudorel.retrieval.fusion import fuse
from pseudorel.system import SearchSystem
from pseudorel.system.guard import PAIR_READERS, GuardSettings, held_out_query_ids
from pseudorel.system.rerank import rerank_run
from pseudorel.system.select import select_system
from pseudorel.teachers.calibration import PlattCalibrator
from pseudorel.teachers.cross_encoder import CrossEncoderTeacher
from pseudorel.training._run import RUN_MARKER, claim_output
from pseudorel.training.bi_encoder import TrainSettings, train_bi_encoder
from pseudorel.training.corpus_student import train_corpus_student
from pseudorel.training.cross_encoder import CrossTrainSettings, train_cross_encoder
from pseudorel.training.document_tower import DocumentTowerSettings, train_document_tower
from pseudorel.training.embedding_student import EmbeddingStudentSettings
from pseudorel.training.examples import ExampleSettings, balanced_pairs, build_examples, teacher_lists
from pseudorel.training.query_tower import QueryTowerSettings, train_query_tower

logger = logging.getLogger("pseudorel")


@dataclass
class AdaptSettings:
    base_model: str = "all-MiniLM-L6-v2"
    synthetic_kinds: tuple[str, ...] = ("title", "ict")
    max_synthetic_docs: int | None = None
    synthetic_per_document: int = 1  # queries of each kind per document (ict: distinct sentences)
    llm_query_docs: int = 0  # documents (seeded sample) the LLM writes a query for, if an LLM is given
    # ("auto",): BM25 + MiniLM, plus nomic-embed-text-v1.5 where it is usable (labels/teacher_choice.py)
    labels: LabelSettings = field(default_factory=lambda: LabelSettings(retrievers=(AUTO,), teacher_mode=AUTO))
    # sampled mode: the student that carries the expensive teacher to the corpus (training/corpus_student.py):
    # "query", a query tower on the expensive teacher's judgments (query_tower settings), or
    # "embedding", a model that imitates its embeddings and re-encodes the corpus (student settings)
    student_kind: str = "query"
    student: EmbeddingStudentSettings = field(default_factory=EmbeddingStudentSettings)
    examples: ExampleSettings = field(default_factory=ExampleSettings)
    # query: train the query tower against the frozen corpus index; query+document: then the
    # document tower against the frozen training queries; both: fine-tune everything on examples
    retriever_tower: str = "query"
    query_tower: QueryTowerSettings = field(default_factory=QueryTowerSettings)
    document_tower: DocumentTowerSettings = field(default_factory=DocumentTowerSettings)
    retriever: TrainSettings = field(default_factory=TrainSettings)  # retriever_tower="both"
    reranker: CrossTrainSettings | None = field(default_factory=CrossTrainSettings)
    reranker_pairs: int = 4000  # labelled pairs to train the reranker: confident positives + hard negatives
    # train the reranker only when a teacher that reads the pairs labelled them (see NO_READER)
    reranker_only_with_reader: bool = True
    chain: bool = False  # let the reranker relabel all pairs before training the retriever
    # after the chain, each query's top reranked candidate is its positive (retriever_tower="both"):
    # a reranker trained on a few hundred queries orders candidates usefully long before its
    # calibrated probabilities clear the teachers' positive threshold
    chain_positives_by_rank: bool = True
    # wall-clock budget in seconds for queries, labels and training (evaluation comes after):
    # the reranker may use RERANKER_SHARE of what is left when it starts, the retriever the rest
    time_budget_s: float | None = None
    guard: GuardSettings = field(default_factory=GuardSettings)  # held-out queries that judge each part
    # extra rounds in which the retriever joins the teacher (each only if the guard kept the last)
    refresh_rounds: int = 1
    seed: int = 0


RERANKER_SHARE = 0.35
STUDENT = "student"  # sampled mode: the folder of the student that imitates the expensive teacher
STUDENT_SHARE = 0.6  # of the time left in a budget when the student starts
NO_READER = (
    "no teacher that reads the documents (LLM judge, query likelihood, cross-encoder) labelled the pairs, so "
    "the guard could only judge a reranker by its agreement with the first stage's own fusion, which it cannot "
    "beat (bench/results/system: dropped on every collection); add --llm or --ql, or --reranker-without-reader"
)
TOWERS = ("query", "query+document", "both")
# with retriever_tower="query+document", the query tower's share of the retriever's time
QUERY_TOWER_SHARE = 0.6


def _reused(stages: StageRecord, stage: str, key: str, path: Path, load, report: dict):
    """What an earlier run made for ``stage`` from the same inputs (``load(path)``), or None: not
    made, made from other inputs, or made but not loadable (truncated, damaged), which is then
    made again rather than left for the user to delete."""

    if not stages.matches(stage, key, path):
        return None
    try:
        made = load(path)
    except (PseudorelError, OSError, ValueError) as e:
        logger.warning("%s: an earlier run's %s does not load (%s): making it again", path, stage, e)
        return None
    report.setdefault("reused", []).append(stage)
    logger.info("stage %s: reused from an earlier run with the same inputs (%s)", stage, path.name)
    return made


def _earlier_stats(path: Path) -> dict:
    try:
        stats = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return stats if isinstance(stats, dict) else {}


def _stage(report: dict, name: str, start: float, summary: str = "") -> None:
    """Record the stage's wall time and say, in one line, that it ended and what it made."""
    report["seconds"][name] = round(time.perf_counter() - start, 1)
    logger.info("stage %s done in %.1f s%s", name, report["seconds"][name], f": {summary}" if summary else "")


def adapt(
    corpus: dict[str, Document],
    output: str | Path,
    queries: list[Query] | None = None,
    settings: AdaptSettings | None = None,
    *args,
    **kwargs,
) -> dict:
    """Every stage of ``pseudorel adapt`` into ``output``, which no other run may write meanwhile
    (the other arguments: :func:`run_stages`)."""

    if settings is not None and settings.retriever_tower not in TOWERS:
        raise ValueError(f"retriever_tower must be one of {', '.join(TOWERS)}, not '{settings.retriever_tower}'")
    with output_lock(output, "pseudorel adapt"):
        return run_stages(corpus, output, queries, settings, *args, **kwargs)


def run_stages(
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
) -> dict:
    """Run every stage; returns (and writes to ``report.json``) the report. ``backend`` is the
    LLM (judge, query writer), ``scorer`` the query-likelihood teacher's model, ``executor``
    where the labelling stage's sharded work runs (``pseudorel.scale``; default: this process)."""
    settings = settings or AdaptSettings()
    if settings.retriever_tower not in TOWERS:
        raise ValueError(f"retriever_tower must be one of {', '.join(TOWERS)}, not '{settings.retriever_tower}'")
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    total = time.perf_counter()
    made = len(settings.synthetic_kinds) * min(len(corpus), settings.max_synthetic_docs or len(corpus))

    def measure(model: str) -> float:
        lengths = speed_sample(corpus, settings.seed, LENGTH_SAMPLE)
        return measure_docs_per_second(model, speed_sample(corpus, settings.seed), lengths, len(corpus))

    choice = choose_teacher(
        settings.labels.retrievers,
        len(corpus),
        len(queries or []) + made,
        settings.time_budget_s,
        mode=settings.labels.teacher_mode,
        teacher_pairs=settings.labels.teacher_pairs,
        measure=measure,
    )
    settings = replace(
        settings, labels=replace(settings.labels, retrievers=choice.retrievers, teacher_mode=choice.mode)
    )
    sampled = choice.mode == SAMPLED
    logger.info("teacher: %s, %s mode (%s)", ", ".join(choice.retrievers), choice.mode, choice.reason)
    report: dict = {"settings": asdict(settings), "teacher": choice.as_dict(), "seconds": {}}
    plan = corpus_pass_plan(choice.retrievers, len(corpus), choice, measure)
    for model, step in plan.items():
        logger.info("plan: %s", plan_line(model, step))

    def within_budget(train_settings, share: float = 1.0):
        """``train_settings`` limited to ``share`` of the time left in the budget (if there is one)."""
        if settings.time_budget_s is None:
            return train_settings
        left = settings.time_budget_s - (time.perf_counter() - total)
        return replace(train_settings, time_limit_s=max(0.0, share * left))

    start = time.perf_counter()
    stages = StageRecord(output / "stages.json")
    backend_id = getattr(backend, "model_id", None)
    made_from = (
        corpus_digest(corpus),
        queries_digest(list(queries or [])),
        [settings.synthetic_kinds, settings.max_synthetic_docs, settings.synthetic_per_document, settings.seed],
        [settings.llm_query_docs, settings.labels.judge.domain, backend_id] if settings.llm_query_docs else None,
    )
    queries_key = fingerprint(*made_from)
    queries_path = output / "queries.jsonl"
    all_queries = _reused(stages, "queries", queries_key, queries_path, read_query_file, report)
    if all_queries is None:
        all_queries = list(queries or []) + made_queries(corpus, settings, backend)
        write_queries(all_queries, queries_path)
        stages.record("queries", queries_key)
    report["queries"] = {
        "unlabeled": sum(not q.synthetic for q in all_queries),
        "synthetic": sum(q.synthetic for q in all_queries),
        "llm": sum(q.source == "llm" for q in all_queries),
    }
    _stage(report, "queries", start, ", ".join(f"{v} {k}" for k, v in report["queries"].items()))

    start = time.perf_counter()
    labels_path = output / "labels.parquet"
    scorer_id = getattr(scorer, "model_id", None) if settings.labels.ql_budget else None
    labels_key = fingerprint(
        queries_key,
        settings.labels,
        teacher_model_ids(settings.labels),
        backend_id if settings.labels.llm_budget else None,
        scorer_id,
    )
    stats_path = output / "work" / "label_stats.json"
    labels = _reused(stages, "labels", labels_key, labels_path, load_labels, report)
    if labels is not None:
        earlier = _earlier_stats(stats_path)  # what the teacher read, so this report says it too
        report["label_stats"] = earlier
        report["teacher_pass"] = earlier.get("teacher_pass")
        report["corpus_passes"] = with_actuals(plan, earlier.get("corpus_passes"))
    else:
        labels, stats = label_pairs(
            corpus, all_queries, settings.labels, output / "work", backend=backend, scorer=scorer, executor=executor
        )
        with atomic_write(stats_path) as f:
            json.dump(stats, f, indent=2, default=str)
        save_labels(labels, labels_path)
        stages.record("labels", labels_key)
        report["label_stats"] = stats
        report["teacher_pass"] = stats.get("teacher_pass")
        report["corpus_passes"] = with_actuals(plan, stats.get("corpus_passes"))
    _stage(report, "labels", start, f"{len(labels)} pairs for {labels['query_id'].nunique()} queries")

    held_out = held_out_query_ids(labels, settings.guard)
    all_labels, labels = labels, labels[~labels["query_id"].isin(set(held_out))].reset_index(drop=True)
    report["held_out_queries"] = len(held_out)

    if sampled:
        start = time.perf_counter()
        budgeted = replace(
            settings,
            student=within_budget(settings.student, STUDENT_SHARE),
            query_tower=within_budget(settings.query_tower, STUDENT_SHARE),
        )
        student_settings = budgeted.student if settings.student_kind == "embedding" else budgeted.query_tower
        teacher_spec = split_teacher(settings.labels.retrievers)[1][0]
        report["student"] = train_corpus_student(
            settings.student_kind,
            settings.base_model,
            teacher_spec,
            all_labels,
            corpus,
            held_out,
            output / STUDENT,
            student_settings,
        )
        _stage(report, "student", start, f"distilled from {report['student']['documents']} documents")

    reranker_path = output / "reranker"
    if settings.reranker is not None and settings.reranker_only_with_reader and not set(PAIR_READERS) & set(labels):
        report["reranker_skipped"] = NO_READER
        logger.info("reranker: not trained: %s", NO_READER)
        settings = replace(settings, reranker=None)
        if (reranker_path / RUN_MARKER).is_file():  # an earlier run's reranker: not part of this run
            shutil.rmtree(reranker_path)
    if settings.reranker is not None:
        start = time.perf_counter()
        budget = within_budget(settings.reranker, RERANKER_SHARE)
        report["reranker_pairs"] = train_reranker(labels, corpus, reranker_path, replace(settings, reranker=budget))
        _stage(report, "reranker", start, f"trained on {report['reranker_pairs']} pairs")

    example_settings = settings.examples
    if settings.chain and settings.reranker is not None:
        start = time.perf_counter()
        chain_path = output / "labels_chain.parquet"
        chain_key = fingerprint(frame_digest(labels), model_id(str(reranker_path)))
        if not stages.matches("chain", chain_key, chain_path):
            chain_path.unlink(missing_ok=True)
        labels = relabel_with_reranker(labels, corpus, reranker_path, chain_path)
        stages.record("chain", chain_key)
        if settings.chain_positives_by_rank:
            example_settings = replace(example_settings, positive_threshold=None)
        _stage(report, "chain", start)

    start = time.perf_counter()
    teacher = "cross-encoder student" if settings.chain else _teacher(labels)
    two_stages = settings.retriever_tower == "query+document"

    def retriever_budget() -> AdaptSettings:
        """The settings a retriever trains with: its towers limited to the time left now."""
        return replace(
            settings,
            examples=example_settings,
            query_tower=within_budget(settings.query_tower, QUERY_TOWER_SHARE if two_stages else 1.0),
            document_tower=within_budget(settings.document_tower),
            retriever=within_budget(settings.retriever),
        )

    retriever_path, query_stage = output / "retriever", output / "query_tower"
    report["examples"] = train_retriever(labels, corpus, retriever_path, retriever_budget(), teacher, query_stage)
    _stage(report, "retriever", start, f"trained on {report['examples']} queries or examples")

    retrievers = ("retriever",)
    if settings.refresh_rounds > 0 and sampled:
        report["refresh"] = [{"round": 2, "ran": False, "reason": "not in sampled mode (the teacher read a sample)"}]
    elif settings.refresh_rounds > 0 and settings.chain:
        report["refresh"] = [{"round": 2, "ran": False, "reason": "not with --chain (its labels are the reranker's)"}]
    elif settings.refresh_rounds > 0:
        start = time.perf_counter()
        names, report["refresh"] = refresh_rounds(
            corpus,
            all_queries,
            all_labels,
            held_out,
            output,
            retriever_budget(),
            stages,
            train_retriever,
            executor=executor,
        )
        retrievers = tuple(names)
        _stage(
            report,
            "refresh",
            start,
            "; ".join(r.get("reason") or f"round {r['round']} trained" for r in report["refresh"]),
        )

    start = time.perf_counter()
    report["system"] = build_system(
        corpus, all_labels, held_out, output, settings, retrievers, student=STUDENT if sampled else None
    )
    _stage(report, "system", start, f"ships {report['system']['shipped']}")

    if evaluation is not None and split in evaluation.qrels:
        start = time.perf_counter()
        report["evaluation"] = evaluate_students(evaluation, output, split, settings)
        _stage(report, "evaluation", start)
    report["seconds"]["total"] = round(time.perf_counter() - total, 1)
    if command:
        report["command"] = command
    with atomic_write(output / "report.json") as f:
        json.dump(report, f, indent=2, default=str)

    logger.info("report: %s", build_report(output))
    return report


def build_system(
    corpus: dict[str, Document],
    labels: pd.DataFrame,
    held_out: list[str],
    output: Path,
    settings: AdaptSettings,
    retrievers: tuple[str, ...] = ("retriever",),
    student: str | None = None,
) -> dict:
    """Let the guard choose the system's parts on the held-out queries and save the output
    folder as a system folder; returns what was shipped and what was dropped, and why."""

    reranker = "reranker" if settings.reranker is not None else None
    models = dense_models(settings.labels.retrievers)
    spec, decisions = select_system(
        corpus,
        labels,
        held_out,
        output,
        settings.base_model,
        retrievers,
        reranker,
        settings.guard,
        models,
        teacher_fusion=settings.labels.mining.fusion,
        student=student,
        sampled=settings.labels.teacher_mode == SAMPLED,
    )
    SearchSystem(spec, corpus, output).save(output)
    return {
        "shipped": spec.describe(),
        "dropped": [d.part for d in decisions if not d.kept and d.part != "system"],
        "decisions": [d.as_dict() for d in decisions],
    }


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
        import random

        docs = random.Random(settings.seed).sample(sorted(corpus), min(settings.llm_query_docs, len(corpus)))
        written, stats = llm_queries(backend, corpus, docs, domain=settings.labels.judge.domain, progress=True)
        logger.info(
            "LLM wrote %d queries (%d duplicates, %d failed)",
            *(stats[k] for k in ("generated", "duplicates", "failed")),
        )
        made += written
    return made


def train_reranker(labels: pd.DataFrame, corpus: dict[str, Document], output: Path, settings: AdaptSettings) -> int:
    """The cross-encoder student (``settings.reranker``) on ``reranker_pairs`` labelled pairs:
    confident positives and hard negatives, or (``distill``) whole lists of each query's top
    candidates with the teacher's graded scores; returns how many pairs it trained on."""
    if settings.reranker.loss == "distill":
        sample = teacher_lists(labels, settings.reranker.list_size, settings.reranker_pairs, settings.seed)
    else:
        pair_settings = replace(settings.examples, negatives=settings.reranker.negatives)
        sample = balanced_pairs(labels, pair_settings, max_pairs=settings.reranker_pairs)
    key = fingerprint(
        "reranker", frame_digest(sample), corpus_digest(corpus), model_id(settings.base_model), settings.reranker
    )
    claim_output(output, key)
    card = {"teacher": _teacher(labels), "fingerprint": key}
    train_cross_encoder(settings.base_model, sample, corpus, output, settings.reranker, card=card)
    return len(sample)


def train_retriever(
    labels: pd.DataFrame,
    corpus: dict[str, Document],
    output: Path,
    settings: AdaptSettings,
    teacher: str | None = None,
    query_stage: Path | None = None,
) -> int:
    """The bi-encoder student, as ``settings.retriever_tower`` says; with ``query+document`` the
    query stage is saved in ``query_stage`` (default: beside ``output``), and the document
    tower's time limit counts from the start of the query stage. Returns how many training
    queries (tower) or examples (``both``) it learned from."""
    teacher = teacher or _teacher(labels)
    key = fingerprint(
        "retriever",
        frame_digest(labels),
        corpus_digest(corpus),
        model_id(settings.base_model),
        [settings.retriever_tower, settings.examples, teacher],
        settings.retriever if settings.retriever_tower == "both" else settings.query_tower,
        settings.document_tower if settings.retriever_tower == "query+document" else None,
    )
    claim_output(output, key)
    card = {"teacher": teacher, "fingerprint": key}
    if settings.retriever_tower not in ("query", "query+document"):
        examples = build_examples(labels, corpus, settings.examples)
        train_bi_encoder(settings.base_model, examples, output, settings.retriever, card=card)
        return len(examples)
    # the teacher's labels are normalised per query, so no threshold has to be cleared
    two_stages = settings.retriever_tower == "query+document"
    query_path = (query_stage or output.with_name(output.name + "-query-tower")) if two_stages else output
    if two_stages:
        claim_output(query_path, fingerprint(key, "query stage"))
    start = time.perf_counter()
    train_query_tower(settings.base_model, labels, corpus, query_path, settings.query_tower, card)
    if two_stages:
        document_tower = settings.document_tower
        if document_tower.time_limit_s is not None:  # a time limit counts from the start of both stages
            left = document_tower.time_limit_s - (time.perf_counter() - start)
            document_tower = replace(document_tower, time_limit_s=max(0.0, left))
        train_document_tower(query_path, labels, corpus, output, settings.query_tower, document_tower, card)
    return json.loads((query_path / "pseudorel.json").read_text())["training_queries"]


def _teacher(labels: pd.DataFrame) -> str:
    parts = [c.removeprefix("prob_") for c in labels.columns if c.startswith("prob_") and c != "prob_cheap"]
    return "combined: " + ", ".join(parts)


def top_candidates(labels: pd.DataFrame, depth: int) -> pd.DataFrame:
    """Each query's top-``depth`` fused candidates, plus its source document if it has one."""
    return labels[(labels["fused_rank"] <= depth) | labels["is_source_doc"].astype(bool)]


def relabel_with_reranker(
    labels: pd.DataFrame, corpus, reranker_path: Path, cache: Path, depth: int | None = None
) -> pd.DataFrame:
    """The distillation chain's middle step: the cross-encoder student reads every candidate pair
    (or, with ``depth``, each query's source document and top-``depth`` fused candidates); its
    scores, Platt-calibrated on synthetic queries' source documents (no qrels), become the labels."""
    if cache.is_file():
        return load_labels(cache)
    if depth is not None:
        labels = top_candidates(labels, depth)

    passages = [corpus[d].full_text for d in labels["doc_id"]]
    scores = CrossEncoderTeacher(str(reranker_path)).score(labels["query_text"].tolist(), passages)
    synthetic = (labels["query_source"] != "log").to_numpy()
    positives = labels["is_source_doc"].to_numpy(dtype=int)
    calibrator = PlattCalibrator().fit(scores[synthetic], positives[synthetic])
    relabelled = labels.assign(prob_teacher=labels["label"], score_reranker=scores)
    relabelled["prob_reranker"] = calibrator.predict(scores)
    relabelled["label"] = relabelled["prob_reranker"]
    save_labels(relabelled, cache)
    return relabelled


def evaluate_students(dataset: Dataset, output: Path, split: str, settings: AdaptSettings) -> dict:
    """Test metrics of the zero-shot model and hybrid, the adapted retriever, the reranker on
    BM25 and the shipped system (qrels read here only)."""

    queries = dataset.split_queries(split)
    qrels = dataset.qrels[split]
    result = {}
    retrievers = {
        "bm25": BM25Retriever(dataset.corpus),
        settings.base_model: DenseRetriever(dataset.corpus, model=settings.base_model),
        "retriever": DenseRetriever(dataset.corpus, model=str(output / "retriever")),
    }
    runs = {
        "zero_shot": retrievers[settings.base_model].search(queries, 100),
        "retriever": retrievers["retriever"].search(queries, 100),
        "bm25": retrievers["bm25"].search(queries, 100),
    }
    # the baseline the guard started from: rank fusion, or in sampled mode the teacher's fusion
    sampled = settings.labels.teacher_mode == SAMPLED
    fusion = settings.labels.mining.fusion if sampled else "rrf"
    runs["hybrid_zero_shot"] = fuse([runs["bm25"], runs["zero_shot"]], fusion)
    runs["hybrid_retriever"] = fuse([runs["bm25"], runs["retriever"]], fusion)
    if sampled and (output / STUDENT / "modules.json").is_file():
        retrievers[STUDENT] = DenseRetriever(dataset.corpus, model=str(output / STUDENT))
        runs["student"] = retrievers[STUDENT].search(queries, 100)
        runs["hybrid_student"] = fuse([runs["bm25"], runs["student"]], fusion)
    if settings.reranker is not None and (output / "reranker" / "config.json").is_file():
        runs["bm25+reranker"] = rerank_run(runs["bm25"], queries, dataset.corpus, str(output / "reranker"))
    if (output / "system.json").is_file():
        system = SearchSystem.load(output, retrievers=retrievers)
        runs["system"] = system.search(queries, 100)
    for name, run in runs.items():
        result[name] = evaluate_run(qrels, run).aggregate
    save_evaluation(output / "evaluation", runs, qrels, queries)
    return result


def save_evaluation(folder: Path, runs: dict, qrels: dict, queries: dict[str, str]) -> None:
    """The evaluated runs (TREC), their qrels (BEIR TSV) and query texts, for ``pseudorel report``'s
    per-query view; written atomically, file by file."""

    folder.mkdir(parents=True, exist_ok=True)
    for name, run in runs.items():
        write_run(run, folder / f"{name}.trec")
    with atomic_write(folder / "qrels.tsv") as f:
        f.write("query-id\tcorpus-id\tscore\n")
        f.writelines(f"{q}\t{d}\t{g}\n" for q, docs in qrels.items() for d, g in docs.items())
    with atomic_write(folder / "queries.jsonl") as f:
        f.writelines(json.dumps({"_id": q, "text": t}) + "\n" for q, t in queries.items())
