"""Run a saved search system: BM25 and dense models fused, optionally joined by an expensive
dense model on the top documents (the late stage), then optionally reranked."""

from __future__ import annotations

import logging
from pathlib import Path

from pseudorel.data.readers import read_corpus
from pseudorel.data.types import Document, Run
from pseudorel.data.writers import write_corpus
from pseudorel.errors import InputError
from pseudorel.fingerprints import corpus_digest, model_identity
from pseudorel.retrieval.bm25 import BM25Retriever
from pseudorel.retrieval.fusion import fuse
from pseudorel.retrieval.models import NOMIC_ALIASES
from pseudorel.retrieval.nomic_files import NOMIC, cached_member
from pseudorel.system.rerank import blend, cross_encoder_scores
from pseudorel.system.spec import FirstStage, LateStage, SystemSpec

logger = logging.getLogger("pseudorel")


class SearchSystem:
    """A system folder (``system.json``, ``corpus.jsonl`` and the models it names) made searchable.

    ``retrievers`` lets a caller that already holds built retrievers (keyed ``"bm25"`` or by
    dense model name) share them instead of indexing the corpus again; ``late_scorer`` likewise
    shares a loaded late-stage model.
    """

    def __init__(
        self,
        spec: SystemSpec,
        corpus: dict[str, Document],
        folder: str | Path | None = None,
        retrievers: dict | None = None,
        progress: bool = False,
        late_scorer=None,
    ):
        self.spec, self.corpus, self.progress = spec, corpus, progress
        self.folder = Path(folder) if folder is not None else None
        self._retrievers = dict(retrievers or {})
        self._reranker = None
        self._late = late_scorer
        self.late_stats: dict = {"documents": 0, "encoded": 0, "seconds": 0.0}  # what the late stage read

    @classmethod
    def load(cls, folder: str | Path, progress: bool = False, retrievers: dict | None = None) -> SearchSystem:

        folder = Path(folder)
        spec = SystemSpec.load(folder)
        corpus_path = folder / spec.corpus
        if not corpus_path.is_file():
            raise InputError(corpus_path, "the system's corpus is missing")
        corpus = read_corpus(corpus_path)
        if spec.corpus_digest and corpus_digest(corpus) != spec.corpus_digest:
            raise InputError(corpus_path, "corpus does not match the digest in system.json (changed after adapt?)")
        for model in spec.model_names():
            if (folder / model).is_dir() and not any((folder / model).iterdir()):
                raise InputError(folder / model, "model folder is empty")
        system = cls(spec, corpus, folder, retrievers, progress)
        system._warn_if_models_changed()
        return system

    def _model_identities(self, folder: Path | None = None) -> dict[str, str]:
        """Each model's identity, leaving out one that would have to be fetched first (nomic
        not yet cached: it is checked by its sha256 when fetched)."""

        names = [m for m in self.spec.model_names() if m.lower() not in NOMIC_ALIASES or cached_member(NOMIC)]
        return {m: model_identity(self._model_path(m, folder)) for m in names}

    def _warn_if_models_changed(self) -> None:
        """A model replaced since the system was saved (retrained in place, read at another
        length) still runs, but it is not what the guard judged: say so."""
        now = self._model_identities()
        for model, saved in self.spec.models.items():
            if model in now and now[model] != saved:
                logger.warning(
                    "%s: model %s is not the one this system was saved with (%s, now %s): "
                    "its ranking may differ from the one the guard judged",
                    self.folder / "system.json",
                    model,
                    saved,
                    now[model],
                )

    def save(self, folder: str | Path) -> Path:
        """Write ``system.json`` and the corpus into ``folder`` (the models must already be there)."""

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        write_corpus(self.corpus, folder / self.spec.corpus)
        self.spec.corpus_digest = corpus_digest(self.corpus)
        self.spec.models = self._model_identities(folder)
        return self.spec.save(folder)

    def _model_path(self, model: str, folder: Path | None = None) -> str:
        """``model`` inside ``folder`` (default: the system's) where it is there, else a model name."""
        folder = folder or self.folder
        if folder is not None and (folder / model).exists():
            return str(folder / model)
        return model

    def retriever(self, name: str):
        """The BM25 retriever (``"bm25"``) or a dense one for a model name/path, built once."""
        if name not in self._retrievers:
            from pseudorel.retrieval.dense import DenseRetriever  # start-up: loads numpy

            if name == "bm25":
                self._retrievers[name] = BM25Retriever(self.corpus)
            else:
                self._retrievers[name] = DenseRetriever(self.corpus, self._model_path(name), progress=self.progress)
        return self._retrievers[name]

    def first_stage(self, queries: dict[str, str], top_k: int = 100) -> Run:
        return first_stage_run(self.spec.first_stage, self.retriever, queries, top_k)

    def late_scorer(self, model: str):
        """The late stage's model, loaded once (it encodes nothing until asked)."""
        if self._late is None:
            from pseudorel.retrieval.pairs import PairScorer  # start-up: loads numpy, sentence-transformers

            self._late = PairScorer(self._model_path(model), self.progress)
        return self._late

    def search(self, queries: dict[str, str], top_k: int = 100) -> Run:
        """Each query's top ``top_k`` documents with scores (higher is better)."""
        stage, late = self.spec.first_stage, self.spec.late
        depth = max(top_k, stage.depth)
        if late is None:
            run = self.first_stage(queries, depth)
        else:
            stats: dict = {}
            scorer = self.late_scorer(late.model)
            run = late_stage_run(stage, late, self.retriever, scorer, queries, self.corpus, depth, stats)
            for key, value in stats.items():
                self.late_stats[key] = self.late_stats.get(key, 0) + value
        rerank = self.spec.reranker
        if rerank is not None:
            from pseudorel.teachers.cross_encoder import CrossEncoderTeacher  # start-up: loads numpy

            if self._reranker is None:
                self._reranker = CrossEncoderTeacher(self._model_path(rerank.model))
            scores = cross_encoder_scores(run, queries, self.corpus, self._reranker, rerank.depth, self.progress)
            run = blend(run, scores, rerank.depth, rerank.weight)
        return {qid: dict(sorted(docs.items(), key=lambda x: (-x[1], x[0]))[:top_k]) for qid, docs in run.items()}


def first_stage_runs(stage: FirstStage, retriever, queries: dict[str, str], top_k: int = 100) -> list[Run]:
    """BM25's run, then each dense model's; ``retriever(name)`` returns a built retriever by name."""
    depth = max(stage.depth, top_k)
    return [retriever(name).search(queries, depth) for name in ("bm25", *stage.dense)]


def first_stage_run(stage: FirstStage, retriever, queries: dict[str, str], top_k: int = 100) -> Run:
    """The fused first stage; ``retriever(name)`` returns a built retriever by name."""
    runs = first_stage_runs(stage, retriever, queries, top_k)
    if not stage.dense:
        return runs[0]
    return fuse(runs, stage.fusion, stage.weights, top_k=top_k)


def late_stage_run(
    stage: FirstStage,
    late: LateStage,
    retriever,
    scorer,
    queries: dict[str, str],
    corpus: dict[str, Document],
    top_k: int = 100,
    stats: dict | None = None,
) -> Run:
    """The first stage's runs fused again with the late model's cosine of each query's top
    ``late.depth`` fused documents (``scorer``: a :class:`PairScorer`), as the teacher fuses its
    retrievers; ``stats`` receives how many documents the late model read and encoded now."""
    runs = first_stage_runs(stage, retriever, queries, top_k)
    fused = fuse(runs, stage.fusion, stage.weights, top_k=late.depth) if stage.dense else runs[0]
    pairs = [(qid, doc_id) for qid, docs in fused.items() for doc_id in list(docs)[: late.depth]]
    read: dict = {}
    cosines = scorer.score([queries[q] for q, _ in pairs], [d for _, d in pairs], corpus, read)
    late_run: Run = {qid: {} for qid in fused}
    for (qid, doc_id), cosine in zip(pairs, cosines, strict=True):
        late_run[qid][doc_id] = float(cosine)
    if stats is not None:
        stats.update(documents=read.get("texts", 0), encoded=read.get("encoded", 0), seconds=read.get("seconds", 0.0))
    return fuse([*runs, late_run], stage.fusion, (*stage.weights, late.weight), top_k=top_k)
