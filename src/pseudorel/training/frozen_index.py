"""Train one tower of a bi-encoder against a frozen index of the other side's embeddings.

The query tower learns against the corpus embedded once (``query_tower.py``); the document
tower learns against the training queries embedded once by the trained query tower
(``document_tower.py``). Both are the same problem: texts, each with the teacher's
distribution over rows of a fixed embedding matrix, fitted with
:class:`CorpusDistillationLoss` on the sentence-transformers trainer, the best checkpoint
chosen by the held-out pseudo-label likelihood (no qrels).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from pathlib import Path

from pseudorel._io import bars
from pseudorel.distributed import distributed_steps, world_size
from pseudorel.errors import NoTrainingData
from pseudorel.training._run import base_arguments, checkpoint_selection, train_resumable


@dataclass
class IndexTargets:
    """Texts to encode and, for each, the teacher's distribution over rows of the frozen index."""

    ids: list[str]
    texts: list[str]
    rows: list[tuple[list[int], list[float]]]  # (index rows, weights) per text
    skipped: int = 0  # texts dropped for carrying no signal
    real: list[bool] = field(default_factory=list)  # per text: a real (user) query, not a synthetic one

    def subset(self, keep: list[int]) -> IndexTargets:
        real = [self.real[i] for i in keep] if self.real else []
        return IndexTargets(
            [self.ids[i] for i in keep], [self.texts[i] for i in keep], [self.rows[i] for i in keep], real=real
        )

    def oversample_real(self, share: float) -> IndexTargets:
        """Real texts repeated so that they make up about ``share`` of the rows (never less often than once)."""
        real = [i for i, r in enumerate(self.real) if r]
        synthetic = len(self.ids) - len(real)
        if not real or not synthetic or share <= 0:
            return self
        repeats = max(1, round(share / (1 - share) * synthetic / len(real)))
        return self.subset([i for i in range(len(self.ids)) for _ in range(repeats if self.real[i] else 1)])

    def with_copies(self, texts: list[list[str]]) -> IndexTargets:
        """These rows followed by one copy per entry of ``texts`` (new texts, same targets)."""
        copies = len(texts)
        return IndexTargets(
            self.ids * (copies + 1),
            self.texts + [t for version in texts for t in version],
            self.rows * (copies + 1),
            real=self.real * (copies + 1),
        )


def corpus_index(model, model_id: str, corpus: dict, doc_ids: list[str]):
    """``[N, dim]`` float tensor: the documents ``doc_ids`` of ``corpus`` embedded by ``model``
    (its document route), cached under ``model_id``."""
    import torch

    from pseudorel.retrieval.encoding import encode_texts  # start-up: loads numpy

    texts = [corpus[d].full_text for d in doc_ids]
    return torch.from_numpy(encode_texts(model, texts, model_id, task="document"))


def use_bf16(setting: bool | None) -> bool:
    """bf16 autocast as asked, or (``None``) where the CPU has native bf16 arithmetic."""
    from pseudorel.retrieval.batch import resolve_precision  # start-up: loads numpy

    return setting if setting is not None else resolve_precision("auto") == "bf16"


def split_held_out(targets: IndexTargets, fraction: float, seed: int) -> tuple[IndexTargets, IndexTargets | None]:
    """A seeded random ``fraction`` of the texts, held out for model selection (none under 20 texts)."""
    n = len(targets.ids)
    if fraction <= 0 or n < 20:
        return targets, None
    held = set(random.Random(seed).sample(range(n), max(1, int(n * fraction))))
    return targets.subset([i for i in range(n) if i not in held]), targets.subset(sorted(held))


def fit_against_index(
    model,
    train: IndexTargets,
    held_out: IndexTargets | None,
    index,
    output: Path,
    settings,
    normalize: bool = True,
    bf16: bool = False,
    evaluations: int | None = None,
) -> dict:
    """Train ``model`` in place; ``settings`` carries epochs, batch_size, learning_rate,
    warmup_ratio, scale, eval_steps, time_limit_s and seed; without ``eval_steps`` the held-out
    texts are scored ``evaluations`` times (default: about twice an epoch). Returns the run's
    record, with ``steps`` planned and ``kept_untrained`` when no checkpoint beat the untrained
    model on the held-out texts (the caller then discards the training)."""
    from datasets import Dataset
    from sentence_transformers import SentenceTransformerTrainer
    from sentence_transformers.sentence_transformer.training_args import SentenceTransformerTrainingArguments

    from pseudorel.training.evaluators import PseudoLabelRankingEvaluator  # start-up: loads sentence_transformers
    from pseudorel.training.losses.corpus_distillation import (  # start-up: loads torch
        CorpusDistillationLoss,
        teacher_targets,
    )  # start-up: loads torch

    if not train.ids:
        raise NoTrainingData("no training texts: none carries a teacher signal")
    docs, weights = teacher_targets(train.rows)
    loss = CorpusDistillationLoss(model, index, docs, weights, scale=settings.scale, normalize=normalize)
    dataset = Dataset.from_dict({"text": train.texts, "label": list(range(len(train.texts)))})
    # one step reads batch_size texts in each process
    steps = math.ceil(math.ceil(len(train.texts) / (settings.batch_size * world_size())) * settings.epochs)
    evaluations = evaluations or max(2, round(2 * settings.epochs))
    eval_steps = settings.eval_steps or max(1, math.ceil(steps / evaluations))
    evaluator = None
    if held_out is not None:
        evaluator = PseudoLabelRankingEvaluator(
            held_out.texts, held_out.rows, loss.documents, normalize=normalize, scale=settings.scale
        )
    args = SentenceTransformerTrainingArguments(
        **base_arguments(output, settings, bf16),
        **checkpoint_selection(eval_steps, f"eval_{evaluator.primary_metric}" if evaluator else None),
        max_steps=distributed_steps(steps),
        disable_tqdm=not bars(),
    )
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=dataset, loss=loss, evaluator=evaluator)
    run = train_resumable(trainer, output, settings.time_limit_s)
    at_start, best = run["held_out_metric_at_start"], run["best_held_out_metric"]
    return {**run, "steps": steps, "kept_untrained": at_start is not None and (best is None or best <= at_start)}
