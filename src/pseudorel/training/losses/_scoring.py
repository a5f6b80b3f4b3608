"""Shared scoring for the losses: queries against their own and in-batch candidate documents.

Every loss takes the columns ``(query, positive, negative_1, ..., negative_k)``. Documents are
laid out column by column: candidate ``c`` of query ``i`` is document ``c * B + i`` of the
batch, so query ``i``'s own candidates are ``own_columns(B, k)[i]``.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor, nn
from torch.nn import functional as F


def embed(model: nn.Module, sentence_features: Iterable[dict[str, Tensor]]) -> list[Tensor]:
    return [model(features)["sentence_embedding"] for features in sentence_features]


def batch_scores(embeddings: list[Tensor], scale: float) -> Tensor:
    """``scale * cos(query_i, doc_j)`` for every query and every document in the batch: [B, B * (1 + k)]."""
    queries = F.normalize(embeddings[0], dim=-1)
    docs = F.normalize(torch.cat(embeddings[1:]), dim=-1)
    return scale * queries @ docs.T


def own_columns(batch_size: int, candidates: int, device=None) -> Tensor:
    """[B, 1 + k] indices of each query's own candidates in :func:`batch_scores`' columns."""
    rows = torch.arange(batch_size, device=device)[:, None]
    return rows + batch_size * torch.arange(candidates, device=device)[None, :]


class CandidateSoftmaxLoss(nn.Module):
    """Base of the classification-style losses: softmax over all in-batch documents with the
    query's own positive as the class. Subclasses implement :meth:`objective`."""

    def __init__(self, model: nn.Module, scale: float = 20.0):
        super().__init__()
        self.model = model
        self.scale = scale

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None = None) -> Tensor:
        logits = batch_scores(embed(self.model, sentence_features), self.scale)
        target = torch.arange(logits.shape[0], device=logits.device)
        return self.objective(logits, target)

    def objective(self, logits: Tensor, target: Tensor) -> Tensor:
        raise NotImplementedError

    def get_config_dict(self) -> dict:
        return {"scale": self.scale}
