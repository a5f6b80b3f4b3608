"""BiXSE: pointwise binary cross-entropy on graded soft labels, with in-batch negatives."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from pseudorel.training.losses._scoring import batch_scores, embed, own_columns


class BiXSELoss(nn.Module):
    """BCE between sigmoid(scale * cos(q, d) + bias) and a soft label y(q, d) in [0, 1].

    Inputs: ``(query, doc_1, ..., doc_m)`` with labels ``[B, m]``: the teacher's probability for
    each of the query's own documents (one labelled pair per query suffices: ``m = 1``). Every
    other document in the batch is an in-batch negative with y = 0. The own-pair and the
    in-batch terms are averaged separately and summed, so the many in-batch zeros do not drown
    the graded labels (our reading; the paper leaves the weighting open). ``bias`` is learned.

    Reference: "BiXSE: Improving Dense Retrieval via Probabilistic Graded Relevance
    Distillation", 2025.
    """

    def __init__(self, model: nn.Module, scale: float = 20.0, bias: float = -10.0, in_batch_weight: float = 1.0):
        super().__init__()
        self.model = model
        self.scale = scale
        self.bias = nn.Parameter(torch.tensor(float(bias)))
        self.in_batch_weight = in_batch_weight

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor) -> Tensor:
        logits = batch_scores(embed(self.model, sentence_features), self.scale) + self.bias
        batch = logits.shape[0]
        labels = labels.float().reshape(batch, -1)
        own = own_columns(batch, labels.shape[1], logits.device)
        own_loss = F.binary_cross_entropy_with_logits(logits.gather(1, own), labels)
        mask = torch.ones_like(logits, dtype=torch.bool).scatter(1, own, False)
        if not mask.any():
            return own_loss
        in_batch = F.binary_cross_entropy_with_logits(logits[mask], torch.zeros_like(logits[mask]))
        return own_loss + self.in_batch_weight * in_batch

    def get_config_dict(self) -> dict:
        return {"scale": self.scale, "in_batch_weight": self.in_batch_weight}
