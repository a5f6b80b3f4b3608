"""Listwise distillation with the whole corpus as the candidate list, documents frozen."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor, nn
from torch.nn import functional as F


class CorpusDistillationLoss(nn.Module):
    """Cross-entropy between a teacher's distribution over each query's candidates and the
    student's softmax over *every* document of the corpus, whose embeddings are fixed.

    Only the query tower is trained: the corpus is embedded once by the base model, so a
    step encodes nothing but a batch of short queries, and every other document of the
    corpus is a negative. Up to the teacher's entropy (a constant) this is KL(teacher ||
    student), i.e. listwise KL distillation where the list is the corpus.

    Inputs: ``(query,)`` with labels ``[B]``: row ids into ``target_docs`` / ``target_weights``.
    ``document_embeddings`` ``[N, dim]``; ``target_docs`` ``[rows, m]`` corpus indices of each
    row's candidates; ``target_weights`` ``[rows, m]`` the teacher's distribution over them
    (rows sum to 1; padding has weight 0). Scores are ``scale * cos`` (``normalize=False``:
    ``scale * dot``).
    References: Hinton et al., "Distilling the Knowledge in a Neural Network", 2015; the frozen
    document index as in query-side fine-tuning, e.g. Lee et al., "Learning Dense
    Representations of Phrases at Scale" (DensePhrases), ACL 2021.
    """

    def __init__(
        self,
        model: nn.Module,
        document_embeddings: Tensor,
        target_docs: Tensor,
        target_weights: Tensor,
        scale: float = 20.0,
        normalize: bool = True,
    ):
        super().__init__()
        if target_docs.shape != target_weights.shape:
            raise ValueError(f"target_docs {tuple(target_docs.shape)} and weights {tuple(target_weights.shape)} differ")
        self.model = model
        docs = document_embeddings.float()
        self.documents = F.normalize(docs, dim=-1) if normalize else docs
        self.target_docs, self.target_weights = target_docs.long(), target_weights.float()
        self.scale, self.normalize = scale, normalize

    def scores(self, query_embeddings: Tensor) -> Tensor:
        """``[B, N]`` student scores of each query against the whole corpus."""
        queries = query_embeddings.float()
        # fp32 even under bf16 autocast: bf16's 8-bit mantissa would blur scaled cosines by ~0.1
        with torch.autocast(queries.device.type, enabled=False):
            queries = F.normalize(queries, dim=-1) if self.normalize else queries
            return self.scale * queries @ self.documents.T

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor) -> Tensor:
        (features,) = list(sentence_features)
        scores = self.scores(self.model(features)["sentence_embedding"])
        rows = labels.long().to(self.target_docs.device)
        return -teacher_log_likelihood(scores, self.target_docs[rows], self.target_weights[rows]).mean()

    def get_config_dict(self) -> dict:
        return {"scale": self.scale, "normalize": self.normalize, "documents": int(self.documents.shape[0])}


def teacher_log_likelihood(scores: Tensor, target_docs: Tensor, target_weights: Tensor) -> Tensor:
    """``[B]``: sum_d w(d) log softmax(scores)[d] per row, the teacher's distribution ``target_weights``
    over the columns ``target_docs`` of ``scores`` ``[B, N]`` (minus the loss, per query)."""
    return (target_weights * scores.log_softmax(dim=-1).gather(1, target_docs)).sum(dim=1)


def teacher_targets(rows: list[tuple[list[int], list[float]]]) -> tuple[Tensor, Tensor]:
    """Pad per-query ``(doc indices, weights)`` into ``[rows, m]`` tensors (weights renormalised)."""
    width = max(len(docs) for docs, _ in rows)
    docs = torch.zeros(len(rows), width, dtype=torch.long)
    weights = torch.zeros(len(rows), width)
    for i, (d, w) in enumerate(rows):
        docs[i, : len(d)] = torch.tensor(d, dtype=torch.long)
        weights[i, : len(w)] = torch.tensor(w, dtype=torch.float)
    total = weights.sum(dim=1, keepdim=True)
    if (total <= 0).any():
        raise ValueError("every row needs a positive teacher weight")
    return docs, weights / total
