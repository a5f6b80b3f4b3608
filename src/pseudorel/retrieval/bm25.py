"""BM25 over title + text with bm25s (Lucene variant, English stemming and stopwords)."""

from __future__ import annotations

import logging

from pseudorel.data.types import Document, Run

#: The one pinned configuration: bm25s defaults, which reproduce BEIR's Lucene BM25 figures.
BM25_CONFIG = {"k1": 1.5, "b": 0.75, "method": "lucene", "stopwords": "en", "stemmer": "english"}


class BM25Retriever:
    """Sparse lexical retriever. ``search`` returns the top-k documents per query."""

    def __init__(self, corpus: dict[str, Document], k1: float = 1.5, b: float = 0.75, method: str = "lucene"):
        import bm25s
        import Stemmer

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s sets DEBUG on import
        self._bm25s = bm25s
        self._stemmer = Stemmer.Stemmer(BM25_CONFIG["stemmer"])
        self.doc_ids = list(corpus)
        tokens = self._tokenize([corpus[d].full_text for d in self.doc_ids])
        self.index = bm25s.BM25(k1=k1, b=b, method=method)
        self.index.index(tokens, show_progress=False)

    def _tokenize(self, texts: list[str]):
        return self._bm25s.tokenize(
            texts, stopwords=BM25_CONFIG["stopwords"], stemmer=self._stemmer, show_progress=False
        )

    def search(self, queries: dict[str, str], top_k: int = 100) -> Run:
        if not queries:
            return {}
        qids = list(queries)
        k = min(top_k, len(self.doc_ids))
        tokens = self._tokenize([queries[q] for q in qids])
        docs, scores = self.index.retrieve(tokens, k=k, show_progress=False, n_threads=1)
        run: Run = {}
        for row, qid in enumerate(qids):
            keep = scores[row] > 0  # a query of only stopwords matches nothing
            run[qid] = {self.doc_ids[d]: float(s) for d, s in zip(docs[row][keep], scores[row][keep], strict=True)}
        return run
