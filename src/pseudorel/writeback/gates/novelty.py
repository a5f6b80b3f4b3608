"""Novelty gate: the answer must not be a near-duplicate of a document in the corpus, by either
signal: cosine similarity of its embedding to the nearest document's (the service's dense model),
or the Jaccard similarity of word 3-shingles estimated with MinHash (datasketch) against every
document (an LSH index finds the candidates). Score: 1 - half the larger of the two
similarity-to-limit ratios, so it passes (above 0.5) exactly when both similarities are under
their limits. Novelty also holds per sentence: a sentence of ``MIN_WORDS`` or more whose word
3-shingles lie mostly (``max_containment``) in one document it cites or was given fails the
gate, so an answer stitched from copied sentences of several documents is no more novel than
each copy alone."""

from __future__ import annotations

import re
from collections.abc import Callable

from pseudorel.data.types import Document
from pseudorel.writeback.candidate import Candidate
from pseudorel.writeback.gates import GateResult

MIN_WORDS = 6  # shorter sentences ("Yes.", "It does not.") say too little to be copies
NearestCosine = Callable[[str], tuple[str | None, float]]  # text -> (nearest document id, cosine)


def shingles(text: str, size: int = 3) -> set[str]:
    words = re.findall(r"\w+", text.lower())
    return {" ".join(words[i : i + size]) for i in range(max(1, len(words) - size + 1))}


class MinHashIndex:
    """MinHash signatures of documents in an LSH index at ``threshold`` Jaccard."""

    def __init__(self, corpus: dict[str, Document], threshold: float = 0.5, num_perm: int = 128):
        from datasketch import MinHash, MinHashLSH

        self._minhash, self.num_perm = MinHash, num_perm
        self.lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        self.signatures: dict[str, object] = {}
        for doc_id, doc in corpus.items():
            self.add(doc_id, doc.full_text)

    def signature(self, text: str):
        m = self._minhash(num_perm=self.num_perm, seed=1)
        m.update_batch([s.encode() for s in shingles(text)])
        return m

    def add(self, doc_id: str, text: str) -> None:
        if doc_id not in self.signatures:
            self.signatures[doc_id] = self.signature(text)
            self.lsh.insert(doc_id, self.signatures[doc_id])

    def nearest(self, text: str) -> tuple[str | None, float]:
        m = self.signature(text)
        found = [(d, m.jaccard(self.signatures[d])) for d in self.lsh.query(m)]
        return max(found, key=lambda x: x[1], default=(None, 0.0))


class NoveltyGate:
    name = "novelty"

    def __init__(
        self,
        minhash: MinHashIndex,
        nearest_cosine: NearestCosine | None = None,
        max_cosine: float = 0.95,
        max_jaccard: float = 0.6,
        max_containment: float = 0.8,
    ):
        self.minhash, self.nearest_cosine = minhash, nearest_cosine
        self.max_cosine, self.max_jaccard, self.max_containment = max_cosine, max_jaccard, max_containment

    def copied_sentence(self, candidate: Candidate, corpus: dict[str, Document]) -> tuple[int, str, float] | None:
        """(sentence number, document, containment) of the first sentence copied from a document the
        answer cites or was given, if any."""
        sources = dict.fromkeys((*candidate.cited, *candidate.retrieved))
        documents = {d: shingles(corpus[d].full_text) for d in sources if d in corpus}
        for number, sentence in enumerate(candidate.sentences, start=1):
            if len(sentence.text.split()) < MIN_WORDS:
                continue
            own = shingles(sentence.text)
            for doc_id, theirs in documents.items():
                containment = len(own & theirs) / len(own)
                if containment >= self.max_containment:
                    return number, doc_id, containment
        return None

    def remember(self, doc_id: str, text: str) -> None:
        """A document just written back: later candidates are checked against it too."""
        self.minhash.add(doc_id, text)

    def check(self, candidate: Candidate, corpus: dict[str, Document]) -> GateResult:
        text = candidate.text
        jaccard_doc, jaccard = self.minhash.nearest(text)
        cosine_doc, cosine = self.nearest_cosine(text) if self.nearest_cosine else (None, 0.0)
        score = 1.0 - max(jaccard / self.max_jaccard, cosine / self.max_cosine) * 0.5
        if jaccard >= self.max_jaccard:
            return GateResult(
                self.name, score, 0.5, False, f"near-duplicate of {jaccard_doc} (shingle Jaccard {jaccard:.2f})"
            )
        if cosine >= self.max_cosine:
            return GateResult(self.name, score, 0.5, False, f"near-duplicate of {cosine_doc} (cosine {cosine:.3f})")
        copied = self.copied_sentence(candidate, corpus)
        if copied is not None:
            number, doc_id, containment = copied
            reason = f"sentence {number} copies {doc_id} (shingle containment {containment:.2f})"
            return GateResult(self.name, min(score, 0.5 - 1e-6), 0.5, False, reason)
        return GateResult(self.name, score, 0.5, True, f"novel (nearest: Jaccard {jaccard:.2f}, cosine {cosine:.3f})")
