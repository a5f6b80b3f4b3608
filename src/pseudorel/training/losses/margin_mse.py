"""MarginMSE: match the student's score margins to the teacher's."""

from __future__ import annotations

from collections.abc import Iterable

from torch import Tensor, nn
from torch.nn import functional as F

from pseudorel.training.losses._scoring import batch_scores, embed, own_columns


class MarginMSELoss(nn.Module):
    """MSE between s(q, d+) - s(q, d-_j) and the teacher's t(q, d+) - t(q, d-_j), with
    s = scale * cos.

    Inputs: ``(query, positive, negative_1, ..., negative_k)`` with labels ``[B, 1 + k]``, the
    teacher's score for each (probabilities in [0, 1] pair well with ``scale=1``).
    Reference: Hofstaetter et al., "Improving Efficient Neural Ranking Models with
    Cross-Architecture Knowledge Distillation", 2020.
    """

    def __init__(self, model: nn.Module, scale: float = 1.0):
        super().__init__()
        self.model = model
        self.scale = scale

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor) -> Tensor:
        logits = batch_scores(embed(self.model, sentence_features), self.scale)
        batch = logits.shape[0]
        labels = labels.float().reshape(batch, -1)
        own = logits.gather(1, own_columns(batch, labels.shape[1], logits.device))
        student = own[:, :1] - own[:, 1:]
        teacher = labels[:, :1] - labels[:, 1:]
        return F.mse_loss(student, teacher)

    def get_config_dict(self) -> dict:
        return {"scale": self.scale}
