"""The students ``adapt`` trains from the labels: the bi-encoder retriever (its query tower, then
optionally its document tower, or the whole model), the cross-encoder reranker, and the
distillation chain in which the reranker relabels the pairs. Also ``pseudorel train``'s code."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd

from pseudorel.adapt.settings import AdaptSettings
from pseudorel.data.types import Document
from pseudorel.fingerprints import corpus_digest, fingerprint, frame_digest, model_id
from pseudorel.labels.store import load_labels, save_labels
from pseudorel.teachers.calibration import PlattCalibrator
from pseudorel.teachers.cross_encoder import CrossEncoderTeacher
from pseudorel.teachers.registry import prob_column, score_column, teacher_columns, teacher_of
from pseudorel.training._run import claim_output
from pseudorel.training.bi_encoder import train_bi_encoder
from pseudorel.training.cross_encoder import train_cross_encoder
from pseudorel.training.document_tower import train_document_tower
from pseudorel.training.examples import balanced_pairs, build_examples, teacher_lists
from pseudorel.training.query_tower import train_query_tower


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
    card = {"teacher": teacher_name(labels), "fingerprint": key}
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
    teacher = teacher or teacher_name(labels)
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


def teacher_name(labels: pd.DataFrame) -> str:
    """The name a student's card gives the teacher whose labels it learned from."""
    parts = [teacher_of(c) for c in teacher_columns(labels)]
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
    relabelled = labels.assign(**{prob_column("teacher"): labels["label"], score_column("reranker"): scores})
    relabelled[prob_column("reranker")] = calibrator.predict(scores)
    relabelled["label"] = relabelled[prob_column("reranker")]
    save_labels(relabelled, cache)
    return relabelled
