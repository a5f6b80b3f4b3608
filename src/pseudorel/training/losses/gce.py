"""Generalized cross-entropy."""

from __future__ import annotations

from torch import Tensor

from pseudorel.training.losses._scoring import CandidateSoftmaxLoss


class GCELoss(CandidateSoftmaxLoss):
    """(1 - p(d+|q)^q) / q: cross-entropy as q -> 0, MAE at q = 1; robust to label noise in between.

    Inputs: ``(query, positive[, negatives...])``; labels are ignored.
    Reference: Zhang and Sabuncu, "Generalized Cross Entropy Loss for Training Deep Neural
    Networks with Noisy Labels", NeurIPS 2018.
    """

    def __init__(self, model, scale: float = 20.0, q: float = 0.7):
        super().__init__(model, scale)
        self.q = q

    def objective(self, logits: Tensor, target: Tensor) -> Tensor:
        p = logits.softmax(dim=-1).gather(1, target[:, None]).squeeze(1)
        return ((1 - p.clamp_min(1e-12) ** self.q) / self.q).mean()

    def get_config_dict(self) -> dict:
        return {"scale": self.scale, "q": self.q}
