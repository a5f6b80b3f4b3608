"""Bootstrapping: trust the label partly and the model's own prediction for the rest."""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn import functional as F

from pseudorel.training.losses._scoring import CandidateSoftmaxLoss


class BootstrappingLoss(CandidateSoftmaxLoss):
    """Cross-entropy against beta * onehot(label) + (1 - beta) * z, with z the model's softmax
    (``soft``) or its argmax one-hot (``hard``), taken without gradient.

    Inputs: ``(query, positive[, negatives...])``; labels are ignored.
    Reference: Reed et al., "Training Deep Neural Networks on Noisy Labels with Bootstrapping",
    ICLR workshop 2015 (beta = 0.95 soft, 0.8 hard there).
    """

    def __init__(self, model, scale: float = 20.0, beta: float = 0.95, mode: str = "soft"):
        super().__init__(model, scale)
        if mode not in ("soft", "hard"):
            raise ValueError("mode is 'soft' or 'hard'")
        self.beta, self.mode = beta, mode

    def objective(self, logits: Tensor, target: Tensor) -> Tensor:
        onehot = F.one_hot(target, logits.shape[1]).float()
        with torch.no_grad():
            probs = logits.softmax(dim=-1)
            z = probs if self.mode == "soft" else F.one_hot(probs.argmax(dim=-1), logits.shape[1]).float()
        mixed = self.beta * onehot + (1 - self.beta) * z
        return -(mixed * logits.log_softmax(dim=-1)).sum(dim=-1).mean()

    def get_config_dict(self) -> dict:
        return {"scale": self.scale, "beta": self.beta, "mode": self.mode}
