"""Adapt a bi-encoder by training its query tower against the frozen corpus index.

The corpus is embedded once by the base model (cached) and never re-encoded: each step
encodes only a batch of short queries and scores them against every document, so the
whole corpus serves as negatives and a step costs a fraction of full fine-tuning on CPU.
The student learns the teacher's distribution over each query's candidates
(:class:`CorpusDistillationLoss`). The result is saved as an asymmetric
sentence-transformers model (a ``Router``: trained query route, base document route), so
``encode_query`` / ``encode_document`` do the right thing for anyone who loads it, and an
index built with the base model stays valid.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from pseudorel.data.types import Document
from pseudorel.retrieval.models import model_fingerprint, resolve_model
from pseudorel.training._run import finished_bi_encoder, save_with_card
from pseudorel.training.augment import word_dropout_copies
from pseudorel.training.frozen_index import IndexTargets, corpus_index, fit_against_index, split_held_out, use_bf16

TARGETS = ("label", "top")


@dataclass
class QueryTowerSettings:
    epochs: float = 4.0
    batch_size: int = 64
    learning_rate: float = 5e-5
    # when given, one run per learning rate (learning_rate is then unused) and the run with the
    # best held-out pseudo-label likelihood is kept: a label-free choice made on the corpus itself
    learning_rate_grid: tuple[float, ...] = ()
    warmup_ratio: float = 0.1
    scale: float = 20.0  # 1 / temperature of the student's softmax over the corpus
    max_query_length: int = 64
    # label: the teacher's labels over each query's candidates, normalised to a distribution;
    # top: all mass on its best-labelled candidate
    target: str = "label"
    # real (user) queries repeated to make up about this share of each epoch: they, not the
    # synthetic ones, look like the queries the retriever will serve; 0 = no oversampling
    real_query_share: float = 0.0
    # each epoch after the first sees the training queries with words dropped at this rate
    # (same targets; training.augment); 0 = every epoch sees the queries as they are. On the
    # Cranfield dev collection 0.1 and 0.25 scored below 0 (bench/results/adapt.md)
    word_dropout: float = 0.0
    eval_fraction: float = 0.1  # held-out queries: their pseudo-label likelihood selects the best checkpoint
    eval_steps: int | None = None  # default: about two evaluations per epoch
    time_limit_s: float | None = None
    # bf16 autocast for the query encoder (None: where the CPU has native bf16); the corpus is
    # scored in fp32 either way
    bf16: bool | None = None
    seed: int = 0


# the training rows of the query tower: queries, each with the teacher's distribution over
# its candidates (rows of the corpus index)
QueryTargets = IndexTargets


def query_targets(labels: pd.DataFrame, doc_index: dict[str, int], target: str = "label") -> QueryTargets:
    """One training row per query of the label table: its candidates and the teacher's weights."""
    if target not in TARGETS:
        raise ValueError(f"unknown target '{target}' (use {' or '.join(TARGETS)})")
    out = QueryTargets([], [], [])
    for qid, group in labels.groupby("query_id", sort=False):
        weights = np.nan_to_num(group["label"].to_numpy(dtype=float))
        if weights.max(initial=0.0) <= 0:
            out.skipped += 1
            continue
        if target == "top":
            weights = (np.arange(len(weights)) == weights.argmax()).astype(float)
        out.ids.append(str(qid))
        out.texts.append(group["query_text"].iat[0])
        out.real.append("query_source" in group and group["query_source"].iat[0] == "log")
        out.rows.append(([doc_index[d] for d in group["doc_id"]], (weights / weights.sum()).tolist()))
    return out


def split_queries(
    labels: pd.DataFrame, doc_ids: list[str], settings: QueryTowerSettings
) -> tuple[QueryTargets, QueryTargets, QueryTargets | None]:
    """Every query's targets, and the (seeded) training / held-out split the query tower uses."""
    targets = query_targets(labels, {d: i for i, d in enumerate(doc_ids)}, settings.target)
    return (targets, *split_held_out(targets, settings.eval_fraction, settings.seed))


def train_query_tower(
    base_model: str,
    labels: pd.DataFrame,
    corpus: dict[str, Document],
    output: str | Path,
    settings: QueryTowerSettings | None = None,
    card: dict | None = None,
):
    """Train ``base_model``'s query tower on ``labels``; returns the saved asymmetric model."""
    from sentence_transformers import SentenceTransformer

    settings = settings or QueryTowerSettings()
    bf16 = use_bf16(settings.bf16)
    output = Path(output)
    if (finished := finished_bi_encoder(output)) is not None:
        return finished
    if settings.learning_rate_grid:
        return _select_learning_rate(base_model, labels, corpus, output, settings, card)
    doc_ids = list(corpus)
    targets, train, held_out = split_queries(labels, doc_ids, settings)
    if not train.ids:
        raise ValueError("no training queries: every query's candidates have label 0")

    path = resolve_model(base_model)
    model = SentenceTransformer(path, device="cpu")
    normalize = (getattr(model, "similarity_fn_name", None) or "cosine") == "cosine"
    documents = corpus_index(model, model_fingerprint(path), corpus, doc_ids)
    base_length = model.max_seq_length
    model.max_seq_length = min(settings.max_query_length, base_length)
    epoch = train.oversample_real(settings.real_query_share)
    fit, evaluations = settings, None
    if settings.word_dropout > 0:  # the epochs become one pass over the queries and their noisy copies
        passes = max(1, round(settings.epochs))
        noisy = word_dropout_copies(epoch.texts, settings.word_dropout, passes - 1, settings.seed)
        epoch, fit = epoch.with_copies(noisy), replace(settings, epochs=settings.epochs / passes)
        evaluations = max(2, 2 * passes)  # as many held-out evaluations as plain epochs would have
    run = fit_against_index(model, epoch, held_out, documents, output, fit, normalize, bf16, evaluations)
    # training that never beat the untrained tower on held-out pseudo-labels is not kept
    kept_base = run.pop("kept_untrained")
    query_model = SentenceTransformer(path, device="cpu") if kept_base else model
    query_model.max_seq_length = base_length
    record = {
        "base_model": base_model,
        "architecture": "query tower trained, document tower = base model (frozen index)",
        "training": {**asdict(settings), "bf16": bf16},
        "training_queries": len(train.ids),
        "real_training_queries": sum(train.real),
        "rows_per_epoch": len(epoch.ids),
        "held_out_queries": 0 if held_out is None else len(held_out.ids),
        "queries_without_signal": targets.skipped,
        "kept_untrained_query_tower": kept_base,
        **run,
        **(card or {}),
    }
    asymmetric = asymmetric_model(query_model, SentenceTransformer(path, device="cpu"))
    save_with_card(asymmetric, output, record)
    return asymmetric


def _select_learning_rate(base_model, labels, corpus, output: Path, settings: QueryTowerSettings, card):
    """One run per rate of ``settings.learning_rate_grid`` (each resumable, under its share of the
    time left), then the run with the best held-out pseudo-label likelihood becomes ``output``."""
    import time

    from sentence_transformers import SentenceTransformer

    start, rates, held_out = time.perf_counter(), settings.learning_rate_grid, {}
    for i, rate in enumerate(rates):
        limit = settings.time_limit_s
        if limit is not None:
            limit = max(0.0, limit - (time.perf_counter() - start)) / (len(rates) - i)
        run = replace(settings, learning_rate=rate, learning_rate_grid=(), time_limit_s=limit)
        folder = output / "learning_rates" / f"{rate:g}"
        train_query_tower(base_model, labels, corpus, folder, run, card)
        record = json.loads((folder / "pseudorel.json").read_text())
        kept = "held_out_metric_at_start" if record["kept_untrained_query_tower"] else "best_held_out_metric"
        held_out[f"{rate:g}"] = record[kept]
    # without held-out queries there is nothing to choose by: the first rate is kept
    scored = {r: m for r, m in held_out.items() if m is not None}
    chosen = max(scored, key=scored.get) if scored else f"{rates[0]:g}"
    folder = output / "learning_rates" / chosen
    record = json.loads((folder / "pseudorel.json").read_text())
    record["learning_rate_selection"] = {"held_out_pseudo_log_likelihood": held_out, "chosen": float(chosen)}
    model = SentenceTransformer(str(folder), device="cpu")
    save_with_card(model, output, record)
    shutil.rmtree(output / "learning_rates", ignore_errors=True)
    return model


def asymmetric_model(query_model, document_model):
    """A sentence-transformers model that encodes queries with one model and documents with another."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Router

    router = Router.for_query_document(list(query_model.children()), list(document_model.children()))
    return SentenceTransformer(
        modules=[router], device="cpu", similarity_fn_name=document_model.similarity_fn_name or "cosine"
    )
