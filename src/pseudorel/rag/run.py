"""``pseudorel rag`` as a function: a dataset's questions, a retriever or system, an LLM; answers
written to ``answers.jsonl`` with a summary (and verdict metrics where the dataset has claim
labels). LLM answers are cached in ``output/llm-cache.sqlite`` as they arrive, so a killed run
resumes where it stopped when the same command runs again."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from pseudorel._io import atomic_write, output_lock
from pseudorel.data import load_dataset
from pseudorel.data.beir import split_query_ids
from pseudorel.data.registry import resolve_dataset
from pseudorel.errors import UsageError
from pseudorel.llm.backend import LLMError
from pseudorel.llm.factory import make_backend
from pseudorel.rag.answer import Answerer, RagSettings
from pseudorel.rag.claims import read_claim_labels, warn_some
from pseudorel.rag.evaluate import evidence_recall, verdict_metrics
from pseudorel.rag.gate import gated
from pseudorel.rag.pipeline import answer_with_documents, gated_answers, seeded_sample, top_documents
from pseudorel.retrieval.factory import build_retriever
from pseudorel.writeback.candidate import from_answer


@dataclass(frozen=True)
class RagJob:
    dataset: str
    split: str = "test"
    retriever: str | None = "hybrid"
    system: Path | None = None
    task: str = "claim"
    k: int = 3
    sample: int | None = None
    seed: int = 0
    gate: str | float = "off"  # off, closed, auto or a confidence threshold
    calibration: int = 40
    llm_seconds: float | None = None
    parallel: int = 1
    write_back: bool = False  # answers go through the gates into the live corpus at ``state``
    state: Path | None = None


def run_job(job: RagJob, llm: str, llm_model: str, llm_timeout: float, output: Path) -> dict:
    """The job's answers and summary in ``output``, which no other run may write meanwhile."""

    with output_lock(output, "pseudorel rag"):
        return _run_job(job, llm, llm_model, llm_timeout, output)


def _run_job(job: RagJob, llm: str, llm_model: str, llm_timeout: float, output: Path) -> dict:

    start = time.perf_counter()
    folder = resolve_dataset(job.dataset)
    data = load_dataset(job.dataset, splits=[])
    ids = [q for q in split_query_ids(folder, job.split) if q in data.queries]
    chosen = seeded_sample(ids, job.sample, job.seed)
    rest = sorted(set(ids) - set(chosen))
    calibration = seeded_sample(rest, job.calibration, job.seed + 1) if job.gate == "auto" else []
    questions = {q: data.queries[q] for q in chosen}
    calib_questions = {q: data.queries[q] for q in calibration}
    # the claims file is checked before any LLM call: a malformed one is named, not found at the end
    claims = _claim_labels(folder / "queries.jsonl", data.corpus) if job.task == "claim" else None

    live = None
    if job.write_back:
        from pseudorel.system.live import build_live_index  # start-up: loads numpy, pandas

        live = build_live_index(job.system, None if job.system else job.dataset, job.retriever or "hybrid", job.state)
    engine = live or _engine(job, data.corpus)
    # what retrieval can return: with write-back, the written documents too (a resumed run finds them)
    corpus = live.current.system.corpus if live is not None else data.corpus
    documents = top_documents(engine.search({**questions, **calib_questions}, job.k), job.k)
    backend = make_backend(
        llm, output / "llm-cache.sqlite", model=llm_model, parallel=job.parallel, timeout=llm_timeout
    )
    answerer = Answerer(backend, RagSettings(task=job.task, parallel=job.parallel))
    answerer.check()  # an unreachable or unusable LLM fails here, before a single question is spent
    summary: dict = {"job": {**asdict(job), "system": None if job.system is None else str(job.system)}}
    if job.gate == "auto":
        calib_docs = {q: documents[q] for q in calibration}
        answers, choice, saved = gated_answers(answerer, questions, documents, corpus, calib_questions, calib_docs)
        summary["gate"] = {**choice.as_dict(), "saved_on_questions": saved}
        retrieval_calls = round(len(answers) * (1 - saved))
    elif job.gate == "closed":
        answers = answer_with_documents(answerer, questions, None, corpus, job.llm_seconds)
        retrieval_calls = 0
    elif job.gate == "off":
        answers = answer_with_documents(answerer, questions, documents, corpus, job.llm_seconds)
        retrieval_calls = len(answers)
    else:
        closed = answer_with_documents(answerer, questions, None, corpus, job.llm_seconds)
        opened = answer_with_documents(answerer, questions, documents, corpus, job.llm_seconds)
        answers, saved = gated(closed, opened, float(job.gate))
        retrieval_calls = round(len(answers) * (1 - saved))
    with atomic_write(output / "answers.jsonl") as f:
        for answer in answers:
            f.write(json.dumps({**answer.as_dict(), "question": questions[answer.question_id]}) + "\n")
    summary |= {
        "answered": len(answers),
        "failed": sum(a.error is not None for a in answers),
        "retrieval_calls": retrieval_calls,
        "cited_share": sum(bool(a.cited) for a in answers) / max(1, len(answers)),
        "llm": {"model_id": backend.model_id, "cache_hits": backend.hits, "asked": backend.misses},
    }
    if live is not None:
        summary["write_back"] = _write_back(live, answers, questions, llm, llm_model, backend.model_id)
    if claims:
        summary["metrics"] = _claim_metrics(claims, answers, documents, job.k)
    summary["seconds"] = round(time.perf_counter() - start, 1)
    with atomic_write(output / "summary.json") as f:
        json.dump(summary, f, indent=2, default=str)
    if answers and summary["failed"] == len(answers):
        first = next(a.error for a in answers if a.error)
        raise LLMError(f"every answer failed ({len(answers)}; the first: {first}); see {output / 'answers.jsonl'}")
    return summary


def _write_back(live, answers, questions, llm: str, llm_model: str, model_id: str) -> dict:
    """Every answer through the gates; what passes enters the live corpus (decisions in the state folder)."""
    from pseudorel.writeback.decide import gated_writer  # start-up: loads numpy, pandas

    writer = gated_writer(live, llm, llm_model)
    accepted = 0
    for answer in answers:
        if answer.error is None and answer.text.strip():
            candidate = from_answer(questions[answer.question_id], answer.text, answer.documents, model_id)
            accepted += writer.consider(candidate, question_id=answer.question_id).accepted
    return {"candidates": len(answers), "accepted": accepted, "decisions": str(writer.decisions)}


def _engine(job: RagJob, corpus):
    if job.system is not None:
        from pseudorel.system import SearchSystem  # start-up: loads pandas

        system = SearchSystem.load(job.system)
        if set(system.corpus) != set(corpus):
            raise UsageError(
                f"--system {job.system} was built on another corpus than --dataset {job.dataset}"
                f" ({len(system.corpus):,} documents against {len(corpus):,}): give the dataset it was built on"
            )
        return system

    return build_retriever(job.retriever, corpus)


def _claim_labels(queries_file: Path, corpus: dict) -> dict:
    """The claims' verdict labels (evaluation only; empty where the file has none), with what
    cannot be scored said out loud: evidence documents that are not in the corpus."""

    if not queries_file.is_file():
        return {}
    labels = read_claim_labels(queries_file)
    missing = sorted({d for label in labels.values() for d in label.evidence} - set(corpus))
    warn_some(
        queries_file, "evidence document(s) are not in the corpus: evidence recall counts them as missed", missing
    )
    return labels


def _claim_metrics(labels: dict, answers, documents, k: int) -> dict:
    """Verdict metrics where the questions are claims with SciFact metadata (evaluation only)."""

    asked = {a.question_id for a in answers}
    labels = {q: label for q, label in labels.items() if q in asked}
    metrics = verdict_metrics(answers, labels)
    metrics["evidence_recall_at_k"] = evidence_recall(documents, labels, k)
    return metrics
