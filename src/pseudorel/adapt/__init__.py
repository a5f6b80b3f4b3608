"""``pseudorel adapt``: from a corpus (and optional unlabeled queries) to a search system, with
no relevance judgments.

Stages (``steps.py``), each cached under the output folder and skipped when an earlier run made
its result from the same inputs (``stage.py``):

1. queries: the user's unlabeled queries plus cheap synthetic ones (title, inverse cloze) and,
   given an LLM and ``llm_query_docs``, LLM-written ones framed in the judge's domain;
2. labels: candidates from BM25 and dense retrieval, labelled by the chosen teachers
   (``labels.parquet``); in sampled mode the expensive teacher reads only a sample, and a
   student carries it to the whole corpus (``student/``);
3. reranker: a cross-encoder student on confident positives and hard negatives (``reranker/``);
4. chain (optional): the reranker relabels every candidate pair, cheaply;
5. retriever: a bi-encoder student (``retriever/``): by default only its query tower, against
   the corpus embedded once by the base model (``retriever_tower`` chooses);
6. refresh: if the guard would keep the retriever, it joins the teacher, the labels are
   recomputed and a new retriever learns from them (``refresh.py``);
7. system: BM25 fused with the retriever, then the reranker, each part kept only if held-out
   pseudo-labels (queries no student trained on) say it beats what it replaces; the output
   folder becomes a system folder for ``pseudorel search``;
8. report: timings, the guard's decisions, and test-set metrics when the caller passes qrels
   (evaluation only), in ``report.json`` (:class:`~pseudorel.report.run_report.RunReport`)
   and ``report.html``.
"""

from pseudorel.adapt.run import adapt
from pseudorel.adapt.settings import TOWERS, AdaptSettings
from pseudorel.adapt.students import relabel_with_reranker, top_candidates, train_reranker, train_retriever

__all__ = [
    "TOWERS",
    "AdaptSettings",
    "adapt",
    "relabel_with_reranker",
    "top_candidates",
    "train_reranker",
    "train_retriever",
]
