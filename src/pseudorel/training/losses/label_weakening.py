"""Label weakening: train on ambiguated target sets instead of single, possibly wrong, labels."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor, nn

from pseudorel.training.losses._scoring import batch_scores, candidates_per_query, embed, own_columns


class LabelWeakeningLoss(nn.Module):
    """Optimistic superset loss over R*_q = R_q ∪ {d in D_q : p(d|q) >= beta}.

    Inputs: ``(query, positive, negative_1, ..., negative_k)``: the positive is the observed
    (possibly noisy) label R_q, and D_q is the query's own candidate list. Labels ``[B]`` are
    row ids into the training set, so each row's target set can be looked up.

    p(d|q) is the softmax over all in-batch documents. The loss is the loss of the most
    plausible member, min_{d in R*_q} -log p(d|q), letting the model disambiguate; it is 0
    once the model puts at least 1 - alpha of its mass on R*_q (relaxation). ``marginal=True``
    uses -log sum_{d in R*_q} p(d|q) instead. R*_q is recomputed only by
    :meth:`update_targets`, called once per epoch (delayed updates), with p taken over D_q.
    The paper leaves beta and alpha open; defaults are ours (see the sensitivity study).

    Reference: "Learning to Retrieve with Weakened Labels: Robust Training under Label
    Noise", arXiv 2512.13237, 2025.
    """

    def __init__(
        self, model: nn.Module, beta: float = 0.5, alpha: float = 0.1, scale: float = 20.0, marginal: bool = False
    ):
        super().__init__()
        self.model = model
        self.beta, self.alpha, self.scale, self.marginal = beta, alpha, scale, marginal
        self.targets: Tensor | None = None  # [rows, 1 + k] bool
        self.updates = 0

    @torch.no_grad()
    def update_targets(self, queries: list[str], candidates: list[list[str]], batch_size: int = 64) -> Tensor:
        """Recompute every row's R*_q with the current model; returns the [rows, 1 + k] mask."""
        was_training = self.model.training
        self.model.eval()
        try:
            q = self.model.encode(queries, batch_size=batch_size, convert_to_tensor=True, normalize_embeddings=True)
            flat = [doc for row in candidates for doc in row]
            d = self.model.encode(flat, batch_size=batch_size, convert_to_tensor=True, normalize_embeddings=True)
        finally:
            self.model.train(was_training)
        d = d.reshape(len(queries), -1, d.shape[-1])
        probs = (self.scale * torch.einsum("nd,nmd->nm", q, d)).softmax(dim=-1)
        targets = probs >= self.beta
        targets[:, 0] = True  # the observed label always stays in the set
        self.targets = targets.cpu()
        self.updates += 1
        return self.targets

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor) -> Tensor:
        logits = batch_scores(embed(self.model, sentence_features), self.scale)
        batch = logits.shape[0]
        m = candidates_per_query(logits)
        log_p = logits.log_softmax(dim=-1).gather(1, own_columns(batch, m, logits.device))
        if self.targets is None:
            mask = torch.zeros(batch, m, dtype=torch.bool, device=logits.device)
            mask[:, 0] = True
        else:
            mask = self.targets[labels.long().cpu()].to(logits.device)
        masked = log_p.masked_fill(~mask, float("-inf"))
        mass_log = torch.logsumexp(masked, dim=-1)
        per_query = -mass_log if self.marginal else -masked.max(dim=-1).values
        satisfied = mass_log.exp() >= 1 - self.alpha
        return (per_query * ~satisfied).mean()

    def get_config_dict(self) -> dict:
        return {"beta": self.beta, "alpha": self.alpha, "scale": self.scale, "marginal": self.marginal}
