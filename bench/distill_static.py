"""A student of a third kind, lexical and static: the expensive embedder's view carried to every
document through its vocabulary, fitted on the documents the sampled teacher read (the cache of a
`bench/distill.py` run must exist). Test qrels are read only for the table.

    .venv/bin/python bench/distill_static.py [--dataset cranfield]

A document d is its tf-idf vector x_d over nomic's own word pieces (L2-normalised; plain tf x idf,
which a sentence-transformers StaticEmbedding computes once idf is folded into its rows; log(1 + tf)
did no better on NFCorpus). The student
predicts nomic's embedding of d as x_d E, where E (one row per word piece) is

- the prior E0: nomic's output for each word piece read alone (model2vec's distillation, no
  corpus text), with one scale fitted on the read documents; or
- kernel ridge on the read documents, around the prior: E = s E0 + X^T a, with
  a = (X X^T + lambda I)^-1 (Y - s X E0) (Y: nomic's embeddings of the read documents), so an
  unread document's prediction is its prior plus its lexical neighbours' residuals.

Queries are encoded by nomic itself (short texts: about 0.03 s each here) or by the student. The
deployable index keeps nomic's own embedding where the teacher read the document and the student's
elsewhere. A label-free check: the cosine of prediction and truth on read documents left out of the fit.
``--fit-share 0.25`` fits on a quarter of the read documents: a corpus the teacher mostly did not read.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse

sys.path.insert(0, str(Path(__file__).parent))
from _corpora import load_collection
from _report import Report

from pseudorel.evaluation import evaluate_run
from pseudorel.retrieval.bm25 import BM25Retriever
from pseudorel.retrieval.dense import DenseRetriever
from pseudorel.retrieval.fusion import fuse
from pseudorel.system.guard import GuardSettings, held_out_query_ids
from pseudorel.training.corpus_student import teacher_embeddings

CACHE = Path(__file__).parent / "cache"
BASE = "all-MiniLM-L6-v2"


def tfidf(token_ids: list[list[int]], vocab: int, idf: np.ndarray | None = None):
    """(L2-normalised tf-idf rows, idf); ``idf``: the corpus's (queries are weighted by it), else computed here."""
    rows = [i for i, ids in enumerate(token_ids) for _ in ids]
    counts = sparse.csr_matrix((np.ones(len(rows)), (rows, np.concatenate(token_ids))), shape=(len(token_ids), vocab))
    counts.sum_duplicates()
    if idf is None:
        df = np.bincount(counts.indices, minlength=vocab)
        idf = np.log((1 + len(token_ids)) / (1 + df)) + 1
    x = counts.multiply(idf[None, :]).tocsr()
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1))).ravel()
    return sparse.diags(1 / np.maximum(norms, 1e-9)) @ x, idf


def token_prior(embedder, used: np.ndarray) -> np.ndarray:
    """nomic's embedding of each used word piece read alone (no prefix), cached."""
    from pseudorel.retrieval.models import model_fingerprint

    path = CACHE / "distill_static" / f"token_prior_{model_fingerprint(str(embedder.path))}.npz"
    known: dict[int, np.ndarray] = {}
    if path.exists():
        saved = np.load(path)
        known = dict(zip(saved["ids"].tolist(), saved["vectors"], strict=True))
    missing = [int(t) for t in used if int(t) not in known]
    if missing:
        words = [embedder.tokenizer.convert_ids_to_tokens(t).removeprefix("##") for t in missing]
        vectors = embedder.encode(words, batch_size=256, prompt="")
        known.update(zip(missing, vectors, strict=True))
        path.parent.mkdir(parents=True, exist_ok=True)
        ids = np.array(sorted(known))
        np.savez(path, ids=ids, vectors=np.stack([known[i] for i in ids]))
    out = np.zeros((embedder.tokenizer.vocab_size, embedder.get_sentence_embedding_dimension()), dtype=np.float32)
    for t in used:
        out[t] = known[int(t)]
    return out


def normalise(m: np.ndarray) -> np.ndarray:
    return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-9)


class StaticStudent:
    def __init__(self, prior: np.ndarray, x_fit: sparse.csr_matrix, y_fit: np.ndarray, ridge: float | None):
        self.prior, self.x_fit = prior, x_fit
        base = np.asarray(x_fit @ prior)
        self.scale = float((base * y_fit).sum() / max((base * base).sum(), 1e-9))
        self.alpha = None
        if ridge is not None:
            kernel = (x_fit @ x_fit.T).toarray()
            residual = y_fit - self.scale * base
            self.alpha = np.linalg.solve(kernel + ridge * np.eye(len(kernel)), residual)

    def predict(self, x: sparse.csr_matrix) -> np.ndarray:
        out = self.scale * np.asarray(x @ self.prior)
        if self.alpha is not None:
            out += (x @ self.x_fit.T).toarray() @ self.alpha
        return normalise(out)


def top_run(scores: np.ndarray, qids: list[str], ids: list[str], k: int = 100) -> dict:
    top = np.argsort(-scores, axis=1)[:, :k]
    return {q: {ids[j]: float(scores[i, j]) for j in top[i]} for i, q in enumerate(qids)}


def main() -> None:
    from pseudorel.retrieval.models import load_bi_encoder

    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", default="cranfield")
    parser.add_argument("--ridges", type=float, nargs="+", default=[0.1, 1.0])
    parser.add_argument("--fit-share", type=float, default=1.0, help="fit on this share of the read documents")
    args = parser.parse_args()
    data = load_collection(args.dataset)
    labels = pd.read_parquet(CACHE / "distill" / args.dataset / "labels.parquet")
    held_out = set(held_out_query_ids(labels, GuardSettings()))
    read = list(dict.fromkeys(labels.loc[~labels["query_id"].isin(held_out), "doc_id"]))
    suffix = f"_share{args.fit_share:g}" if args.fit_share < 1 else ""
    report = Report(f"distill_static_{args.dataset}{suffix}")
    queries, qrels = data.split_queries("test"), data.qrels["test"]  # qrels: evaluation only
    qids, ids = list(queries), list(data.corpus)
    position = {d: i for i, d in enumerate(ids)}
    read_rows = np.array([position[d] for d in read])
    if args.fit_share < 1:
        keep = np.random.default_rng(1).random(len(read_rows)) < args.fit_share
        read_rows = read_rows[keep]

    nomic = load_bi_encoder("nomic")
    texts = [data.corpus[d].full_text for d in ids]
    token_ids = nomic.tokenizer(texts, truncation=True, max_length=nomic.max_seq_length, add_special_tokens=False)
    x_all, idf = tfidf([np.asarray(t, dtype=np.int64) for t in token_ids["input_ids"]], nomic.tokenizer.vocab_size)
    prior = token_prior(nomic, np.unique(x_all.indices))
    y_read = normalise(teacher_embeddings("nomic", [], [texts[i] for i in read_rows]))
    q_nomic = normalise(teacher_embeddings("nomic", [queries[q] for q in qids], []))
    q_tokens = nomic.tokenizer([queries[q] for q in qids], add_special_tokens=False)["input_ids"]
    x_q, _ = tfidf([np.asarray(t, dtype=np.int64) for t in q_tokens], nomic.tokenizer.vocab_size, idf)

    rng = np.random.default_rng(0)
    check = rng.random(len(read_rows)) < 0.2
    bm25 = BM25Retriever(data.corpus).search(queries, 100)
    minilm = DenseRetriever(data.corpus, BASE, progress=False).search(queries, 100)
    runs = {"hybrid (BM25 + MiniLM)": fuse([bm25, minilm], "interpolate")}
    label_free = {}
    for ridge in [None, *args.ridges]:
        name = "prior only" if ridge is None else f"kernel ridge {ridge:g}"
        held = StaticStudent(prior, x_all[read_rows[~check]], y_read[~check], ridge)
        label_free[name] = round(float((held.predict(x_all[read_rows[check]]) * y_read[check]).sum(1).mean()), 4)
        student = StaticStudent(prior, x_all[read_rows], y_read, ridge)
        docs = student.predict(x_all)
        mixed = docs.copy()
        mixed[read_rows] = y_read
        for query_side, q in (("nomic queries", q_nomic), ("student queries", student.predict(x_q))):
            for index, d in (("student docs", docs), ("nomic where read", mixed)):
                run = top_run(q @ d.T, qids, ids)
                label = f"{name}: {query_side} x {index}"
                runs[label] = run
                runs[f"{label} + BM25 + MiniLM"] = fuse([bm25, minilm, run], "interpolate")
    table = {name: round(evaluate_run(qrels, run).aggregate["nDCG@10"], 4) for name, run in runs.items()}
    report.data = {
        "dataset": args.dataset,
        "documents": len(ids),
        "read_documents": len(read_rows),
        "held_out_cosine": label_free,
        "test_ndcg@10": table,
    }
    lines = [
        f"{len(read_rows)} of {len(ids)} documents read by the teacher (fit); unread: {len(ids) - len(read_rows)}.",
        "",
        "Label-free: cosine of predicted and nomic's embedding on read documents left out of the fit: "
        + ", ".join(f"{k} {v}" for k, v in label_free.items()),
        "",
        "| run | test nDCG@10 |",
        "|---|---|",
    ]
    lines += [f"| {name} | {value} |" for name, value in table.items()]
    report.save("\n".join(lines) + "\n", complete=True)


if __name__ == "__main__":
    main()
