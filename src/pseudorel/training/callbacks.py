"""Trainer callbacks: label weakening's once-per-epoch target sets."""

from __future__ import annotations

from transformers import TrainerCallback

from pseudorel.training.examples import Examples


class TargetSetUpdater(TrainerCallback):
    """Recomputes a LabelWeakeningLoss's target sets at the start of every epoch."""

    def __init__(self, loss, examples: Examples):
        self.loss, self.examples = loss, examples

    def on_epoch_begin(self, args, state, control, **kwargs):
        self.loss.update_targets(self.examples.queries, self.examples.docs)
