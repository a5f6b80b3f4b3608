"""Training losses, one per file, in the sentence-transformers style: ``Loss(model, **hparams)``
with ``forward(sentence_features, labels)``."""

from pseudorel.training.losses.bixse import BiXSELoss
from pseudorel.training.losses.bootstrapping import BootstrappingLoss
from pseudorel.training.losses.gce import GCELoss
from pseudorel.training.losses.infonce import InfoNCELoss
from pseudorel.training.losses.label_smoothing import LabelSmoothingLoss
from pseudorel.training.losses.label_weakening import LabelWeakeningLoss
from pseudorel.training.losses.listwise_kl import ListwiseKLLoss
from pseudorel.training.losses.mae import MAELoss
from pseudorel.training.losses.margin_mse import MarginMSELoss
from pseudorel.training.losses.sce import SCELoss

LOSSES = {
    "infonce": InfoNCELoss,
    "bixse": BiXSELoss,
    "margin_mse": MarginMSELoss,
    "kl": ListwiseKLLoss,
    "label_weakening": LabelWeakeningLoss,
    "gce": GCELoss,
    "sce": SCELoss,
    "mae": MAELoss,
    "bootstrap_soft": BootstrappingLoss,
    "bootstrap_hard": lambda model, **kw: BootstrappingLoss(model, mode="hard", **{"beta": 0.8, **kw}),
    "label_smoothing": LabelSmoothingLoss,
}

__all__ = [
    "LOSSES",
    "BiXSELoss",
    "BootstrappingLoss",
    "GCELoss",
    "InfoNCELoss",
    "LabelSmoothingLoss",
    "LabelWeakeningLoss",
    "ListwiseKLLoss",
    "MAELoss",
    "MarginMSELoss",
    "SCELoss",
]
