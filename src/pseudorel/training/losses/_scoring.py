"""Shared scoring for the losses: queries against their own and in-batch candidate documents.

Every loss takes the columns ``(query, positive, negative_1, ..., negative_k)``. Documents are
laid out column by column: candidate ``c`` of query ``i`` is document ``c * B + i`` of the
batch, so query ``i``'s own candidates are ``own_columns(B, k)[i]``.

In a distributed run (DDP, ``torchrun``) the documents of every process join each query's
in-batch candidates, as one process with the whole global batch would see them (the
``gather_across_devices`` of sentence-transformers' losses, always on here): candidate ``c`` of
query ``i`` of rank ``r`` is then document ``c * W * B + r * B + i`` of the gathered batch.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor, nn
from torch.nn import functional as F


def embed(model: nn.Module, sentence_features: Iterable[dict[str, Tensor]]) -> list[Tensor]:
    return [model(features)["sentence_embedding"] for features in sentence_features]


def _world() -> tuple[int, int]:
    """(processes, this process's rank): (1, 0) outside a distributed run."""
    from sentence_transformers.util.distributed import get_rank, get_world_size

    return get_world_size(), get_rank()


def _gathered(column: Tensor) -> Tensor:
    """One document column from every process, this process's part keeping its gradient."""
    from sentence_transformers.util.distributed import all_gather_with_grad

    return all_gather_with_grad(column) if _world()[0] > 1 else column


def batch_scores(embeddings: list[Tensor], scale: float) -> Tensor:
    """``scale * cos(query_i, doc_j)`` for every query and every document in the (global) batch:
    [B, W * B * (1 + k)]."""
    queries = F.normalize(embeddings[0], dim=-1)
    docs = F.normalize(torch.cat([_gathered(column) for column in embeddings[1:]]), dim=-1)
    return scale * queries @ docs.T


def own_columns(batch_size: int, candidates: int, device=None) -> Tensor:
    """[B, 1 + k] indices of each query's own candidates in :func:`batch_scores`' columns."""
    world, rank = _world()
    rows = rank * batch_size + torch.arange(batch_size, device=device)[:, None]
    return rows + world * batch_size * torch.arange(candidates, device=device)[None, :]


def candidates_per_query(logits: Tensor) -> int:
    """``1 + k`` from :func:`batch_scores`' output."""
    return logits.shape[1] // (logits.shape[0] * _world()[0])


class CandidateSoftmaxLoss(nn.Module):
    """Base of the classification-style losses: softmax over all in-batch documents with the
    query's own positive as the class. Subclasses implement :meth:`objective`."""

    def __init__(self, model: nn.Module, scale: float = 20.0):
        super().__init__()
        self.model = model
        self.scale = scale

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None = None) -> Tensor:
        logits = batch_scores(embed(self.model, sentence_features), self.scale)
        target = own_columns(logits.shape[0], 1, logits.device)[:, 0]
        return self.objective(logits, target)

    def objective(self, logits: Tensor, target: Tensor) -> Tensor:
        raise NotImplementedError

    def get_config_dict(self) -> dict:
        return {"scale": self.scale}
