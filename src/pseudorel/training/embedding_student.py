"""A small student that imitates the expensive embedder on this corpus's own texts.

The sampled teacher embedded some queries and their candidate documents with the expensive
model (nomic). The student (MiniLM, both towers: it re-encodes the whole corpus itself) learns to
map each text to the teacher's embedding: a linear projection to the teacher's space on top of
the base model, started at the least-squares map from the base model's embeddings, then the
whole network trained with MSE on the L2-normalised embeddings. This is the distillation recipe
of Reimers & Gurevych, "Making Monolingual Sentence Embeddings Multilingual using Knowledge
Distillation" (EMNLP 2020), here from a large embedder to a small one on in-domain texts.
Queries and documents go through the same network, each towards its own teacher embedding
(nomic reads them with different prefixes). The result is a plain sentence-transformers folder.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from pseudorel._io import bars
from pseudorel.retrieval.models import resolve_model
from pseudorel.training._run import (
    base_arguments,
    checkpoint_selection,
    finished_bi_encoder,
    save_with_card,
    train_resumable,
)
from pseudorel.training.frozen_index import use_bf16


@dataclass
class EmbeddingStudentSettings:
    epochs: float = 3.0
    batch_size: int = 32
    learning_rate: float = 1e-4
    warmup_ratio: float = 0.1
    max_seq_length: int = 256
    time_limit_s: float | None = None
    bf16: bool | None = None  # autocast where the CPU has native bf16 (None)
    seed: int = 0


def least_squares_projection(source: np.ndarray, target: np.ndarray, ridge: float = 1e-2):
    """(weight [out, in], bias [out]) minimising ``|source @ W.T + b - target|^2 + ridge |W|^2``."""
    mean_s, mean_t = source.mean(0), target.mean(0)
    s, t = source - mean_s, target - mean_t
    gram = s.T @ s + ridge * len(s) * np.eye(s.shape[1])
    weight = np.linalg.solve(gram, s.T @ t).T
    return weight.astype(np.float32), (mean_t - weight @ mean_s).astype(np.float32)


def student_model(base_model: str, texts: list[str], targets: np.ndarray, max_seq_length: int):
    """The base model + a Dense projection to the teacher's dimension (least-squares start) + Normalize."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Dense, Normalize

    base = SentenceTransformer(resolve_model(base_model), device="cpu")
    base.max_seq_length = min(max_seq_length, base.max_seq_length)
    modules = [m for m in base.children() if type(m).__name__ != "Normalize"]
    source = base.encode(texts, batch_size=64, convert_to_numpy=True, show_progress_bar=False)
    weight, bias = least_squares_projection(source, targets)
    dense = Dense(
        source.shape[1],
        targets.shape[1],
        activation_function=torch.nn.Identity(),
        init_weight=torch.from_numpy(weight),
        init_bias=torch.from_numpy(bias),
    )
    model = SentenceTransformer(modules=[*modules, dense, Normalize()], device="cpu", similarity_fn_name="cosine")
    model.max_seq_length = base.max_seq_length
    return model


def train_embedding_student(
    base_model: str,
    texts: list[str],
    targets: np.ndarray,
    output: str | Path,
    settings: EmbeddingStudentSettings | None = None,
    card: dict | None = None,
):
    """Train and save (sentence-transformers format) a student whose embedding of ``texts[i]``
    approaches the L2-normalised ``targets[i]``; returns the model. A finished run is reused."""
    from datasets import Dataset
    from sentence_transformers import SentenceTransformerTrainer
    from sentence_transformers.sentence_transformer.losses import MSELoss
    from sentence_transformers.sentence_transformer.training_args import SentenceTransformerTrainingArguments

    from pseudorel.training.length_batches import LengthGroupedBatchSampler  # start-up: loads sentence_transformers

    settings = settings or EmbeddingStudentSettings()
    output = Path(output)
    if (finished := finished_bi_encoder(output)) is not None:
        return finished
    if not texts:
        raise ValueError("no texts to distil from")
    targets = targets / np.maximum(np.linalg.norm(targets, axis=1, keepdims=True), 1e-12)
    model = student_model(base_model, texts, targets, settings.max_seq_length)
    bf16 = use_bf16(settings.bf16)
    steps = math.ceil(math.ceil(len(texts) / settings.batch_size) * settings.epochs)
    args = SentenceTransformerTrainingArguments(
        **base_arguments(output, settings, bf16),
        **checkpoint_selection(max(1, math.ceil(steps / 4)), None),
        max_steps=steps,
        disable_tqdm=not bars(),
        batch_sampler=LengthGroupedBatchSampler,
    )
    dataset = Dataset.from_dict({"text": texts, "label": targets.tolist()}).shuffle(seed=settings.seed)
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=dataset, loss=MSELoss(model))
    run = train_resumable(trainer, output, settings.time_limit_s)
    record = {
        "base_model": base_model,
        "architecture": "base model + projection to the teacher's embedding space, both towers trained",
        "training": {**asdict(settings), "bf16": bf16},
        "distilled_texts": len(texts),
        "teacher_dimension": int(targets.shape[1]),
        "steps": steps,
        **{k: v for k, v in run.items() if k in ("train_seconds", "steps_done", "stopped_by_time_limit")},
        **(card or {}),
    }
    save_with_card(model, output, record)
    return model


def student_record(folder: str | Path) -> dict:
    return json.loads((Path(folder) / "pseudorel.json").read_text())
