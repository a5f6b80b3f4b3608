"""The first stage every teacher starts from: each retriever's top candidates for the queries."""

from __future__ import annotations

from pseudorel.data.types import Document
from pseudorel.queries.types import Query
from pseudorel.retrieval.factory import build_retriever, parse_spec


def run_retrievers(
    corpus: dict[str, Document],
    queries: list[Query],
    specs: tuple[str, ...],
    depth: int,
    passes: dict | None = None,
    **dense_options,
):
    """Each retriever's top ``depth`` for ``queries``, keyed by its spec with ``:`` as ``_``;
    ``passes`` (if given) receives each dense model's corpus pass: documents, how many were
    encoded now, seconds, and the backend it ran by."""

    texts = {q.id: q.text for q in queries}
    runs = {}
    for spec in specs:
        retriever = build_retriever(spec, corpus, **dense_options)
        runs[spec.replace(":", "_")] = retriever.search(texts, depth)
        dense = getattr(retriever, "dense", retriever)
        if passes is not None and getattr(dense, "encode_stats", None) is not None:
            choice = dense.backend
            passes[parse_spec(spec)[1] or dense.model_name] = {
                **dense.encode_stats,
                "backend": choice.backend if choice else None,
                "backend_reason": choice.reason if choice else None,
            }
    return runs
