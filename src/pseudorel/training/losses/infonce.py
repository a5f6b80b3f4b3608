"""InfoNCE / multiple-negatives ranking loss."""

from __future__ import annotations

from torch import Tensor
from torch.nn import functional as F

from pseudorel.training.losses._scoring import CandidateSoftmaxLoss


class InfoNCELoss(CandidateSoftmaxLoss):
    """-log softmax(scale * cos(q, d+)) over d+, the hard negatives and every other in-batch document.

    Inputs: ``(query, positive[, negative_1, ..., negative_k])``; labels are ignored.
    Reference: van den Oord et al., "Representation Learning with Contrastive Predictive
    Coding", 2018; Henderson et al., "Efficient Natural Language Response Suggestion", 2017.
    """

    def objective(self, logits: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(logits, target)
