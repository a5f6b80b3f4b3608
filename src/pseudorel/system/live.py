"""The live corpus: the base corpus plus the written-back documents of the log, searchable.

Each change builds a new immutable ``Snapshot`` (the corpus, BM25 over all of it, each dense
model's base index plus the written documents' vectors) and swaps it in with one assignment,
so readers keep answering from the snapshot they started with while a write runs. The log is
the only durable state: a restart (or a change another process made, seen by the log's size
and time) rebuilds the snapshot from the base indexes, whose embeddings are cached, and the
log, whose documents are few. Only written-back documents can be removed."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pseudorel.data import load_dataset
from pseudorel.data.types import Document, Run
from pseudorel.errors import UsageError
from pseudorel.retrieval.bm25 import BM25Retriever
from pseudorel.retrieval.factory import parse_spec
from pseudorel.system.search import SearchSystem
from pseudorel.system.spec import FirstStage, SystemSpec
from pseudorel.system.written_log import WrittenLog, live_documents

WRITTEN_PREFIX = "wb:"  # the ids of written-back documents, so evaluation can tell them apart


class OverlayDense:
    """A base dense index plus a few written documents' vectors, searched together exactly."""

    def __init__(self, base, ids: list[str], vectors: np.ndarray):
        self.base, self.ids, self.vectors = base, ids, vectors

    def search(self, queries: dict[str, str], top_k: int = 100) -> Run:
        if not queries:
            return {}
        qids = list(queries)
        # a service's queries are one-off: no embedding cache written per request
        q = self.base.encode([queries[x] for x in qids], task="query", desc="encode queries", use_cache=False)
        scores, idx = self.base.index.search(q, min(top_k, len(self.base.doc_ids)))
        extra = q @ self.vectors.T if len(self.ids) else np.zeros((len(qids), 0), dtype=np.float32)
        run: Run = {}
        for row, qid in enumerate(qids):
            hits = {self.base.doc_ids[i]: float(s) for i, s in zip(idx[row], scores[row], strict=True) if i >= 0}
            hits |= {d: float(s) for d, s in zip(self.ids, extra[row], strict=True)}
            run[qid] = dict(sorted(hits.items(), key=lambda x: (-x[1], x[0]))[:top_k])
        return run

    def nearest(self, text: str) -> tuple[str | None, float]:
        """The document whose vector is closest to ``text`` encoded as a document, and the similarity."""
        v = self.base.encode([text], task="document", use_cache=False)
        scores, idx = self.base.index.search(v, 1)
        best = (self.base.doc_ids[idx[0][0]], float(scores[0][0])) if idx[0][0] >= 0 else (None, -1.0)
        if len(self.ids):
            extra = (v @ self.vectors.T)[0]
            j = int(extra.argmax())
            if extra[j] > best[1]:
                best = (self.ids[j], float(extra[j]))
        return best


@dataclass(frozen=True)
class Snapshot:
    version: int  # the seq of the last log record applied (0: the base corpus alone)
    written: dict[str, dict]  # id -> the log's add record
    system: SearchSystem
    log_stamp: tuple[int, int]  # the log's (size, mtime_ns) when it was read

    def search(self, queries: dict[str, str], top_k: int = 10, include_written: bool = True) -> Run:
        run = self.system.search(queries, top_k + (0 if include_written else len(self.written)))
        if not include_written:
            run = {q: {d: s for d, s in hits.items() if d not in self.written} for q, hits in run.items()}
        return {q: dict(list(hits.items())[:top_k]) for q, hits in run.items()}


class LiveIndex:
    """Search over the base system's corpus and the written-back documents in ``state``."""

    def __init__(self, base: SearchSystem, state: str | Path):
        self.base, self.log = base, WrittenLog(state)
        self._write_lock = threading.Lock()
        self._vectors: dict[tuple[str, str], np.ndarray] = {}  # (model, doc id) -> vector
        self.current = self._build()

    def _stamp(self) -> tuple[int, int]:
        return self.log.stamp()

    def _build(self) -> Snapshot:

        stamp = self._stamp()
        records = self.log.records()
        written = live_documents(records)
        docs = {i: Document(r.get("title", ""), r["text"]) for i, r in written.items()}
        corpus = {**self.base.corpus, **docs}
        retrievers = {"bm25": BM25Retriever(corpus) if docs else self.base.retriever("bm25")}
        for model in self.base.spec.first_stage.dense:
            dense = self.base.retriever(model)
            ids = list(docs)
            for doc_id in ids:
                if (model, doc_id) not in self._vectors:
                    self._vectors[model, doc_id] = dense.encode([docs[doc_id].full_text], task="document")[0]
            vectors = np.stack([self._vectors[model, d] for d in ids]) if ids else np.zeros((0, 1), np.float32)
            retrievers[model] = OverlayDense(dense, ids, vectors)
        late = self.base.spec.late
        scorer = self.base.late_scorer(late.model) if late else None  # loaded once, shared by every snapshot
        system = SearchSystem(self.base.spec, corpus, self.base.folder, retrievers=retrievers, late_scorer=scorer)
        version = records[-1]["seq"] if records else 0
        return Snapshot(version, written, system, stamp)

    def refresh(self) -> Snapshot:
        """The current snapshot, rebuilt first if another process changed the log."""
        if self._stamp() != self.current.log_stamp:
            with self._write_lock:
                if self._stamp() != self.current.log_stamp:
                    self.current = self._build()
        return self.current

    def search(self, queries: dict[str, str], top_k: int = 10, include_written: bool = True) -> Run:
        """``include_written=False``: as if nothing had been written back (for evaluation)."""
        return self.refresh().search(queries, top_k, include_written)

    def nearest_cosine(self, text: str) -> tuple[str | None, float]:
        """The nearest document by the first dense model (the novelty gate's embedding signal)."""
        models = self.base.spec.first_stage.dense
        if not models:
            return None, 0.0
        return self.refresh().system.retriever(models[0]).nearest(text)

    def document(self, doc_id: str) -> tuple[Document, dict | None] | None:
        snapshot = self.refresh()
        doc = snapshot.system.corpus.get(doc_id)
        return None if doc is None else (doc, snapshot.written.get(doc_id))

    def add(self, title: str, text: str, provenance: dict, doc_id: str | None = None) -> dict:
        """Append a written-back document (its id gets the ``wb:`` prefix); the new snapshot is in
        place when this returns. The id is chosen, or checked, under the log's lock against the log
        itself, so two processes serving one state never hand out the same id."""
        if doc_id is not None and not doc_id.startswith(WRITTEN_PREFIX):
            doc_id = WRITTEN_PREFIX + doc_id
        base = self.base.corpus

        def record(records: list[dict]) -> dict:
            used = {r["id"] for r in records}  # an id once written stays its document's, removed or not
            if doc_id is not None:
                if doc_id in used or doc_id in base:
                    raise UsageError(f"document '{doc_id}' exists")
                chosen = doc_id
            else:
                number = len(records) + 1
                while f"{WRITTEN_PREFIX}{number}" in used or f"{WRITTEN_PREFIX}{number}" in base:
                    number += 1
                chosen = f"{WRITTEN_PREFIX}{number}"
            return {"op": "add", "id": chosen, "title": title, "text": text, "provenance": provenance}

        with self._write_lock:
            made = self.log.append(record)
            self.current = self._build()
        return made

    def remove(self, doc_id: str, reason: str = "") -> dict:
        def record(records: list[dict]) -> dict:
            if doc_id not in live_documents(records):
                raise KeyError(doc_id)
            return {"op": "remove", "id": doc_id, "reason": reason}

        with self._write_lock:
            made = self.log.append(record)
            self.current = self._build()
        return made


def build_live_index(system: Path | None, dataset: str | None, retriever: str, state: Path | None):
    """The live index ``serve`` runs: a system folder's, or a dataset's corpus with a retriever."""
    if (system is None) == (dataset is None):
        raise UsageError("give --system DIR or --dataset NAME (with --retriever)")
    if system is not None:
        if not (system / "system.json").is_file():
            raise UsageError(f"--system: {system} is not a system folder (no system.json)")
        return LiveIndex(SearchSystem.load(system), state or system / "written")
    if state is None:
        raise UsageError("--dataset needs --state (the folder for written-back documents)")

    kind, model = parse_spec(retriever)
    if kind == "dense":
        raise UsageError("--retriever: the service runs bm25 or hybrid[:MODEL] (BM25 stays in its first stage)")
    dense = () if kind == "bm25" else (model or "all-MiniLM-L6-v2",)
    spec = SystemSpec(first_stage=FirstStage(dense=dense, weights=(1.0,) * (1 + len(dense))))
    return LiveIndex(SearchSystem(spec, load_dataset(dataset, splits=[]).corpus), state)
