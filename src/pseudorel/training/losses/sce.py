"""Symmetric cross-entropy."""

from __future__ import annotations

from torch import Tensor
from torch.nn import functional as F

from pseudorel.training.losses._scoring import CandidateSoftmaxLoss


class SCELoss(CandidateSoftmaxLoss):
    """alpha * CE + beta * RCE, where reverse CE with log 0 := A reduces to -A (1 - p(d+|q)).

    Inputs: ``(query, positive[, negatives...])``; labels are ignored.
    Reference: Wang et al., "Symmetric Cross Entropy for Robust Learning with Noisy Labels", ICCV 2019.
    """

    def __init__(self, model, scale: float = 20.0, alpha: float = 0.1, beta: float = 1.0, log_zero: float = -4.0):
        super().__init__(model, scale)
        self.alpha, self.beta, self.log_zero = alpha, beta, log_zero

    def objective(self, logits: Tensor, target: Tensor) -> Tensor:
        ce = F.cross_entropy(logits, target)
        p = logits.softmax(dim=-1).gather(1, target[:, None]).squeeze(1)
        rce = (-self.log_zero * (1 - p)).mean()
        return self.alpha * ce + self.beta * rce

    def get_config_dict(self) -> dict:
        return {"scale": self.scale, "alpha": self.alpha, "beta": self.beta, "log_zero": self.log_zero}
