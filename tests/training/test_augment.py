"""Word-dropout copies of the training queries."""

import random

from pseudorel.training.augment import drop_words, word_dropout_copies
from pseudorel.training.frozen_index import IndexTargets


def test_drop_words_drops_about_the_rate_and_keeps_a_word():
    rng = random.Random(0)
    text = " ".join(f"w{i}" for i in range(1000))
    kept = drop_words(text, 0.25, rng).split()
    assert 700 < len(kept) < 800 and kept == sorted(kept, key=lambda w: int(w[1:]))  # order kept
    assert drop_words("only", 0.99, rng) == "only"  # never empty
    assert drop_words(text, 0.0, rng) == text


def test_word_dropout_copies_are_seeded_and_aligned():
    texts = ["vitamin d deficiency and bone loss", "coffee and the liver"]
    copies = word_dropout_copies(texts, 0.5, 3, seed=1)
    assert copies == word_dropout_copies(texts, 0.5, 3, seed=1)
    assert len(copies) == 3 and all(len(c) == 2 for c in copies)
    assert all(set(c[0].split()) <= set(texts[0].split()) for c in copies)


def test_copies_keep_each_text_with_its_targets():
    targets = IndexTargets(["a", "b"], ["qa", "qb"], [([0], [1.0]), ([1, 2], [0.5, 0.5])], real=[True, False])
    both = targets.with_copies([["qa'", "qb'"]])
    assert both.texts == ["qa", "qb", "qa'", "qb'"]
    assert both.ids == ["a", "b", "a", "b"] and both.rows[3] == targets.rows[1] and both.real == [True, False] * 2
