"""Training losses, one per file, in the sentence-transformers style: ``Loss(model, **hparams)``
with ``forward(sentence_features, labels)``. ``LOSSES`` are those of the full bi-encoder over
``(query, positive, negatives)`` columns; ``CorpusDistillationLoss`` trains the query tower
against frozen document embeddings (``training/query_tower.py``)."""

import inspect

from pseudorel.training.losses.bixse import BiXSELoss
from pseudorel.training.losses.bootstrapping import BootstrappingLoss
from pseudorel.training.losses.corpus_distillation import CorpusDistillationLoss
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


def parse_loss_spec(spec: str) -> tuple[str, dict]:
    """``"label_weakening[beta=0.3,alpha=0]"`` -> ``("label_weakening", {"beta": 0.3, "alpha": 0.0})``.

    Hyperparameters in brackets let one sweep compare variants of a loss; values are read as
    numbers or booleans (``true``/``false``)."""
    name, _, rest = spec.strip().partition("[")
    if name not in LOSSES:
        raise ValueError(f"unknown loss '{name}' (known: {', '.join(LOSSES)})")
    if rest and not rest.endswith("]"):
        raise ValueError(f"loss '{spec}': hyperparameters go in brackets, e.g. {name}[beta=0.3]")
    kwargs: dict = {}
    for part in filter(None, (p.strip() for p in rest[:-1].split(","))):
        key, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"loss '{spec}': '{part}' is not key=value")
        low = value.strip().lower()
        try:
            kwargs[key.strip()] = low == "true" if low in ("true", "false") else float(value)
        except ValueError:
            raise ValueError(f"loss '{spec}': '{value}' is not a number or true/false") from None
    accepted = set(inspect.signature(LOSSES[name]).parameters) - {"model", "self"}
    unknown = sorted(set(kwargs) - accepted)
    if unknown:
        raise ValueError(f"loss '{name}' takes no {', '.join(unknown)} (it takes {', '.join(sorted(accepted))})")
    return name, kwargs


__all__ = [
    "LOSSES",
    "BiXSELoss",
    "BootstrappingLoss",
    "CorpusDistillationLoss",
    "GCELoss",
    "InfoNCELoss",
    "LabelSmoothingLoss",
    "LabelWeakeningLoss",
    "ListwiseKLLoss",
    "MAELoss",
    "MarginMSELoss",
    "SCELoss",
    "parse_loss_spec",
]
