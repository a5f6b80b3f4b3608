"""Train a cross-encoder student (a reranker) on pseudo-labels.

Initialised from the bi-encoder's transformer weights (all-MiniLM-L6-v2 by default) with a
new one-logit head and saved in sentence-transformers CrossEncoder format. Two objectives:

- ``listwise`` (default): softmax cross-entropy over each query's confident positive, its hard
  negatives and one in-batch negative (sentence-transformers' cross-encoder
  MultipleNegativesRankingLoss). Only the ordering within a query matters, so the student
  cannot lower the loss by predicting the label base rate.
- ``bce``: pointwise binary cross-entropy against the teacher's probability for each pair.
  In our runs (125 steps on scifact) it learned only the base rate: a constant score.
- ``distill``: listwise KL to the teacher's graded scores (ListNet, Cao et al. 2007, with the
  teacher's distribution softmax(log p / temperature) over each query's list: its top fused
  candidates and its source document, see ``examples.teacher_lists``). Every candidate counts
  by how strongly the teacher believes in it, not only a thresholded positive.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from pseudorel.data.types import Document
from pseudorel.distributed import distributed_steps, world_size
from pseudorel.errors import NoTrainingData
from pseudorel.retrieval.models import resolve_model
from pseudorel.training._run import base_arguments, finished_model, quiet_loading, save_with_card, train_resumable
from pseudorel.training.examples import ExampleSettings, build_examples


@dataclass
class CrossTrainSettings:
    epochs: float = 1.0
    batch_size: int = 8  # listwise: queries per step (each with 1 + negatives + 1 documents); bce: pairs
    learning_rate: float = 5e-5
    # the new one-logit head (and the pooler, unused by the bi-encoder it starts from) learn at
    # this rate: at the encoder's 5e-5, Adam moves a fresh head so little in a few hundred steps
    # that the student learns only the label base rate (a constant score)
    head_learning_rate: float = 1e-3
    loss: str = "listwise"  # or "bce", "distill"
    negatives: int = 3  # hard negatives per query (listwise)
    list_size: int = 8  # distill: documents per query
    temperature: float = 1.0  # distill: the teacher's distribution is softmax(log p / temperature)
    warmup_ratio: float = 0.1
    max_length: int = 256
    bf16: bool = True
    time_limit_s: float | None = None  # stop after this many seconds of training
    seed: int = 0


def _optimizer(model, settings: CrossTrainSettings):
    """AdamW with the head (classifier + pooler) at ``head_learning_rate``, the encoder at ``learning_rate``."""
    import torch

    head, body = [], []
    for name, param in model.model.named_parameters():
        (head if name.startswith(("classifier.", "bert.pooler.")) else body).append(param)
    groups = [{"params": body, "lr": settings.learning_rate}, {"params": head, "lr": settings.head_learning_rate}]
    return torch.optim.AdamW(groups, lr=settings.learning_rate, weight_decay=0.0)


def train_cross_encoder(
    base_model: str,
    labels: pd.DataFrame,
    corpus: dict[str, Document],
    output: str | Path,
    settings: CrossTrainSettings | None = None,
    card: dict | None = None,
):
    """Fit a CrossEncoder to a label table: listwise on its confident positives and hard
    negatives, or pointwise on every labelled pair (``settings.loss``)."""
    from datasets import Dataset
    from sentence_transformers import CrossEncoder
    from sentence_transformers.cross_encoder import CrossEncoderTrainer, CrossEncoderTrainingArguments

    settings = settings or CrossTrainSettings()
    output = Path(output)
    if (finished := finished_model(output, "config.json", lambda path: CrossEncoder(path, device="cpu"))) is not None:
        return finished
    if settings.loss == "listwise":
        examples = build_examples(labels, corpus, ExampleSettings(negatives=settings.negatives, seed=settings.seed))
        if len(examples) == 0:
            raise NoTrainingData("no query has a confident positive and enough hard negatives")
        dataset = Dataset.from_dict(examples.to_dataset("none").to_dict())
    elif settings.loss == "distill":
        dataset = _teacher_list_dataset(labels, corpus, settings.temperature)
    elif settings.loss == "bce":
        rows = labels.dropna(subset=["label"])
        if rows.empty:
            raise NoTrainingData("no labelled pairs to train on")
        dataset = Dataset.from_dict(
            {
                "query": rows["query_text"].tolist(),
                "document": [corpus[d].full_text for d in rows["doc_id"]],
                "label": rows["label"].astype(float).tolist(),
            }
        )
    else:
        raise ValueError(f"unknown cross-encoder loss '{settings.loss}' (listwise, bce or distill)")
    from transformers import AutoConfig, set_seed

    set_seed(settings.seed)  # before the new head is initialised, so two runs start from the same weights
    positions = getattr(AutoConfig.from_pretrained(resolve_model(base_model)), "max_position_embeddings", None)
    max_length = min(settings.max_length, positions) if positions else settings.max_length
    with quiet_loading(f"reranker: {base_model}'s encoder with a new one-logit head (trained from scratch)"):
        model = CrossEncoder(resolve_model(base_model), num_labels=1, max_length=max_length, device="cpu")
    steps = math.ceil(len(dataset) / (settings.batch_size * world_size()) * settings.epochs)
    args = CrossEncoderTrainingArguments(
        **base_arguments(output, settings, settings.bf16),
        save_strategy="steps",
        save_steps=max(1, steps // 4),
        save_total_limit=1,
        logging_steps=max(1, steps // 8),
        max_steps=distributed_steps(steps),
        # DDP: every parameter takes part in each step; searching for unused ones makes DDP fire
        # the new head's gradient hook twice
        ddp_find_unused_parameters=False,
    )
    trainer = CrossEncoderTrainer(
        model=model,
        args=args,
        train_dataset=dataset,
        loss=_loss(model, settings.loss),
        optimizers=(_optimizer(model, settings), None),
    )
    run = train_resumable(trainer, output, settings.time_limit_s)
    record = {"base_model": base_model, "training": asdict(settings), "examples": len(dataset), "steps": steps, **run}
    save_with_card(model, output, {**record, **(card or {})})
    return model


def _loss(model, name: str):
    from sentence_transformers.cross_encoder import losses

    if name == "listwise":
        return losses.MultipleNegativesRankingLoss(model, num_negatives=1)
    if name == "distill":
        return losses.ListNetLoss(model)
    return losses.BinaryCrossEntropyLoss(model)


def _teacher_list_dataset(labels: pd.DataFrame, corpus: dict[str, Document], temperature: float):
    """One row per query: its documents and the teacher's log-probabilities over temperature
    (ListNet's softmax of them is the teacher's distribution over the list)."""
    import numpy as np
    from datasets import Dataset

    rows = labels.dropna(subset=["label"])
    if rows.empty:
        raise NoTrainingData("no labelled pairs to train on")
    queries, docs, targets = [], [], []
    for _, group in rows.groupby("query_id", sort=False):
        queries.append(group["query_text"].iat[0])
        docs.append([corpus[d].full_text for d in group["doc_id"]])
        targets.append((np.log(np.clip(group["label"].to_numpy(float), 1e-4, 1.0)) / temperature).tolist())
    return Dataset.from_dict({"query": queries, "docs": docs, "labels": targets})
