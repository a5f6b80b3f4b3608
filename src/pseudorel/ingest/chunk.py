"""Passages from a document's blocks, within the retriever's token limit: structure first (blocks
of one section are packed together, a new heading starts a new passage), then, for a block
longer than the limit, windows of words that end at a sentence where one is near, with
``overlap`` tokens repeated between windows. Token counts are the student tokenizer's, so no
passage is cut off when the student reads it."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pseudorel.ingest.extract import Block

SPECIAL_TOKENS = 2  # [CLS] and [SEP]
WordCounter = Callable[[Sequence[str]], list[int]]  # words -> tokens each


@dataclass(frozen=True)
class Passage:
    text: str
    page: int | None
    headings: tuple[str, ...]
    start: int  # character offsets in the document's text (its blocks joined by blank lines)
    end: int


def words_counter() -> WordCounter:
    """About 1.3 tokens a word, where no tokenizer is at hand."""
    return lambda words: [max(1, round(1.3 * len(re.findall(r"\w+|[^\w\s]", w)))) for w in words]


def tokenizer_counter(tokenizer) -> WordCounter:
    """Each whitespace word's token count under ``tokenizer`` (a BERT-style tokenizer splits on
    white space first, so a text's count is the sum of its words'), cached per word."""
    cache: dict[str, int] = {}

    def count(words: Sequence[str]) -> list[int]:
        new = [w for w in dict.fromkeys(words) if w not in cache]
        if new:
            if hasattr(tokenizer, "encode_batch"):  # a ``tokenizers.Tokenizer`` (no transformers import)
                ids = [e.ids for e in tokenizer.encode_batch(new, add_special_tokens=False)]
            else:
                ids = tokenizer(new, add_special_tokens=False, verbose=False)["input_ids"]
            cache.update({w: max(1, len(i)) for w, i in zip(new, ids, strict=True)})
        return [cache[w] for w in words]

    return count


def _windows(words: list[tuple[int, int, str]], tokens: list[int], limit: int, overlap: int) -> list[tuple[int, int]]:
    """(first, last+1) word ranges of at most ``limit`` tokens, ending at a sentence end when one
    is in the window's second half, each starting about ``overlap`` tokens before the last ended."""
    ranges, start = [], 0
    while start < len(words):
        end, total = start, 0
        while end < len(words) and total + tokens[end] <= limit:
            total += tokens[end]
            end += 1
        end = max(end, start + 1)  # a single word over the limit still moves on (it is cut by the reader)
        if end < len(words):
            ends = [i + 1 for i in range(start, end) if words[i][2].endswith((".", "!", "?"))]
            ends = [e for e in ends if e - start > (end - start) // 2]
            end = ends[-1] if ends else end
        ranges.append((start, end))
        if end >= len(words):
            break
        back, carried = end, 0
        while back > start + 1 and carried + tokens[back - 1] <= overlap:
            back -= 1
            carried += tokens[back]
        start = back
    return ranges


def chunk(blocks: list[Block], count: WordCounter, max_tokens: int = 256, overlap: int = 32) -> list[Passage]:
    """The document's passages, in order; none empty, none over ``max_tokens`` tokens."""
    limit = max_tokens - SPECIAL_TOKENS
    if limit < 8 or not 0 <= overlap < limit // 2:
        raise ValueError(f"max_tokens {max_tokens} with overlap {overlap}: the overlap must be under half the limit")
    passages: list[Passage] = []
    pending: list[tuple[Block, int]] = []  # blocks packed into the next passage, with their offsets
    pending_tokens = 0

    def flush() -> None:
        nonlocal pending, pending_tokens
        if pending:
            first, start = pending[0]
            last, last_start = pending[-1]
            text = "\n".join(b.text for b, _ in pending)
            passages.append(Passage(text, first.page, first.headings, start, last_start + len(last.text)))
        pending, pending_tokens = [], 0

    offset = 0
    for block in blocks:
        found = [(m.start(), m.end(), m.group()) for m in re.finditer(r"\S+", block.text)]
        tokens = count([w for _, _, w in found])
        total = sum(tokens)
        if pending and (block.headings != pending[0][0].headings or pending_tokens + total > limit):
            flush()
        if total <= limit:
            pending.append((block, offset))
            pending_tokens += total
        else:
            flush()
            for first, last in _windows(found, tokens, limit, overlap):
                begin, end = found[first][0], found[last - 1][1]
                text = block.text[begin:end]
                passages.append(Passage(text, block.page, block.headings, offset + begin, offset + end))
        offset += len(block.text) + 2  # blocks are joined by a blank line
    flush()
    return passages
