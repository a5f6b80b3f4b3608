"""Mean absolute error between the softmax and the one-hot target."""

from __future__ import annotations

from torch import Tensor

from pseudorel.training.losses._scoring import CandidateSoftmaxLoss


class MAELoss(CandidateSoftmaxLoss):
    """||softmax - onehot||_1 = 2 (1 - p(d+|q)): symmetric, hence noise-tolerant, but slow to fit.

    Inputs: ``(query, positive[, negatives...])``; labels are ignored.
    Reference: Ghosh, Kumar and Sastry, "Robust Loss Functions under Label Noise for Deep
    Neural Networks", AAAI 2017.
    """

    def objective(self, logits: Tensor, target: Tensor) -> Tensor:
        p = logits.softmax(dim=-1).gather(1, target[:, None]).squeeze(1)
        return (2 * (1 - p)).mean()
