"""Cross-entropy with label smoothing."""

from __future__ import annotations

from torch import Tensor
from torch.nn import functional as F

from pseudorel.training.losses._scoring import CandidateSoftmaxLoss


class LabelSmoothingLoss(CandidateSoftmaxLoss):
    """Cross-entropy against (1 - epsilon) * onehot + epsilon / C over the C in-batch documents.

    Inputs: ``(query, positive[, negatives...])``; labels are ignored.
    Reference: Szegedy et al., "Rethinking the Inception Architecture", CVPR 2016; as a
    noise-robust baseline: Lukasik et al., "Does Label Smoothing Mitigate Label Noise?", ICML 2020.
    """

    def __init__(self, model, scale: float = 20.0, epsilon: float = 0.1):
        super().__init__(model, scale)
        self.epsilon = epsilon

    def objective(self, logits: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(logits, target, label_smoothing=self.epsilon)

    def get_config_dict(self) -> dict:
        return {"scale": self.scale, "epsilon": self.epsilon}
