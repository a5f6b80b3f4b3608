"""Listwise KL distillation over each query's candidate list."""

from __future__ import annotations

from collections.abc import Iterable

from torch import Tensor, nn
from torch.nn import functional as F

from pseudorel.training.losses._scoring import batch_scores, embed, own_columns


class ListwiseKLLoss(nn.Module):
    """KL(softmax(t / T) || softmax(s / T)) over the query's own candidates, s = scale * cos.

    Inputs: ``(query, doc_1, ..., doc_m)`` with labels ``[B, m]``. Labels are teacher
    probabilities by default, turned into logits log(p / (1 - p)) first; set
    ``labels_are_probs=False`` for raw teacher scores.
    Reference: Hinton et al., "Distilling the Knowledge in a Neural Network", 2015; as
    listwise ranking distillation: e.g. RocketQAv2 (Ren et al., EMNLP 2021).
    """

    def __init__(self, model: nn.Module, scale: float = 20.0, temperature: float = 1.0, labels_are_probs: bool = True):
        super().__init__()
        self.model = model
        self.scale, self.temperature, self.labels_are_probs = scale, temperature, labels_are_probs

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor) -> Tensor:
        logits = batch_scores(embed(self.model, sentence_features), self.scale)
        batch = logits.shape[0]
        labels = labels.float().reshape(batch, -1)
        student = logits.gather(1, own_columns(batch, labels.shape[1], logits.device))
        teacher = labels
        if self.labels_are_probs:
            p = labels.clamp(1e-4, 1 - 1e-4)
            teacher = (p / (1 - p)).log()
        return (
            F.kl_div(
                (student / self.temperature).log_softmax(-1),
                (teacher / self.temperature).log_softmax(-1),
                log_target=True,
                reduction="batchmean",
            )
            * self.temperature**2
        )

    def get_config_dict(self) -> dict:
        return {"scale": self.scale, "temperature": self.temperature, "labels_are_probs": self.labels_are_probs}
