"""Batches of texts of similar length, for training on CPU.

The default sampler mixes short queries and long documents in one batch, and every text is
padded to the longest: on a CPU the padding is most of the cost. Here texts are sorted by
length and cut into batches, and only the batches' order is shuffled (seeded, anew each epoch),
as ``group_by_length`` does in transformers' trainer.
"""

from __future__ import annotations

import random

from sentence_transformers.base.sampler import DefaultBatchSampler


class LengthGroupedBatchSampler(DefaultBatchSampler):
    """A sentence-transformers batch sampler over a dataset with a ``text`` column."""

    def __init__(self, dataset, batch_size: int, drop_last: bool, valid_label_columns=None, generator=None, seed=0):
        super().__init__(dataset, batch_size, drop_last, valid_label_columns, generator, seed)
        lengths = [len(t) for t in dataset["text"]]
        order = sorted(range(len(lengths)), key=lengths.__getitem__)
        self.batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
        if drop_last and self.batches and len(self.batches[-1]) < batch_size:
            self.batches.pop()

    def __iter__(self):
        batches = list(self.batches)
        random.Random(self.seed + self.epoch).shuffle(batches)
        yield from batches

    def __len__(self) -> int:
        return len(self.batches)
