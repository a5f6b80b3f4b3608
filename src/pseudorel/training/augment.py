"""Query augmentation for the frozen-index towers: noisy copies of the training texts.

The query tower fits its training queries far better than new ones (on scifact the teacher-label
likelihood of training queries gains 3-4x what held-out queries gain), so each pass after the
first may see the queries with words dropped: the teacher's targets stay, and the tower cannot
lean on any single word being present (word dropout as in Iyyer et al., ACL 2015).
"""

from __future__ import annotations

import random


def drop_words(text: str, rate: float, rng: random.Random) -> str:
    """``text`` with each word dropped with probability ``rate`` (at least one word kept)."""
    words = text.split()
    kept = [w for w in words if rng.random() >= rate]
    if not kept and words:
        kept = [rng.choice(words)]
    return " ".join(kept)


def word_dropout_copies(texts: list[str], rate: float, copies: int, seed: int = 0) -> list[list[str]]:
    """``copies`` seeded noisy versions of ``texts``, each as long as ``texts``."""
    rng = random.Random(seed)
    return [[drop_words(t, rate, rng) for t in texts] for _ in range(copies)]
