"""Sampled mode: the expensive teacher reads only the candidate pairs of a sample of queries."""

from __future__ import annotations

from pseudorel.candidates.mining import MiningSettings
from pseudorel.data import load_beir
from pseudorel.labels.pipeline import LabelSettings, label_pairs
from pseudorel.labels.sampled import sample_queries, split_teacher, within_budget
from pseudorel.queries import Query, synthetic_queries
from pseudorel.retrieval.embedding_store import EmbeddingStore


def _queries(ds):
    return [Query(q, t) for q, t in ds.queries.items()] + synthetic_queries(ds.corpus, ("title", "ict"))


def test_split_teacher_keeps_bm25_and_the_first_dense_model_cheap():
    assert split_teacher(("bm25", "dense", "dense:nomic")) == (("bm25", "dense"), ("dense:nomic",))
    assert split_teacher(("bm25", "dense")) == (("bm25", "dense"), ())


def test_sample_alternates_real_and_synthetic_queries():
    queries = [Query(f"s{i}", "t", "title", f"d{i}") for i in range(50)] + [Query(f"r{i}", "q") for i in range(3)]
    chosen = sample_queries(queries, pairs=40, per_query=4)
    assert len(chosen) == 13  # 1.3 * 40 / 4
    assert [q.synthetic for q in chosen[:6]] == [False, True] * 3 and all(q.synthetic for q in chosen[6:])


def test_within_budget_keeps_whole_queries(labelled):
    frame = labelled[1].sort_values("query_id", kind="stable")
    kept = within_budget(frame, 10)
    assert 0 < len(kept) <= 10
    sizes = frame.groupby("query_id").size()
    assert all(sizes[q] == n for q, n in kept.groupby("query_id").size().items())  # no query cut in half


def test_sampled_teacher_embeds_only_candidate_documents(
    tmp_path, tiny_dataset_path, tiny_model_path, tiny_teacher_path, isolated_cache
):
    ds = load_beir(tiny_dataset_path, splits=[])
    settings = LabelSettings(
        retrievers=("bm25", f"dense:{tiny_model_path}", f"dense:{tiny_teacher_path}"),
        mining=MiningSettings(top=1, deep=0),
        teacher_mode="sampled",
        teacher_pairs=12,
    )
    frame, stats = label_pairs(ds.corpus, _queries(ds), settings, tmp_path / "w", progress=False)
    read = stats["teacher_pass"]
    candidates = frame["doc_id"].nunique()
    assert 0 < len(frame) <= 12 and read["pairs"] == len(frame)
    assert read["documents_read"] == candidates < len(ds.corpus)
    teacher = f"dense_{tiny_teacher_path}"
    assert read[teacher]["encoded"] == candidates
    # per-text stores: the cheap model's holds the corpus; the teacher's only the candidate
    # documents and the sampled queries (a symmetric model: one store for both)
    stores = [EmbeddingStore(p) for p in (isolated_cache / "embeddings" / "by_text").iterdir()]
    sizes = sorted(len(s.load()) for s in stores)
    assert sizes == sorted([len(ds.corpus), candidates + frame["query_text"].nunique()])
    assert frame[f"rank_{teacher}"].notna().all() and frame["label"].between(0, 1).all()


def test_full_mode_reads_the_whole_corpus(tmp_path, tiny_dataset_path, tiny_model_path, tiny_teacher_path):
    ds = load_beir(tiny_dataset_path, splits=[])
    settings = LabelSettings(retrievers=("bm25", f"dense:{tiny_model_path}", f"dense:{tiny_teacher_path}"))
    frame, stats = label_pairs(ds.corpus, _queries(ds), settings, tmp_path / "w", progress=False)
    assert "teacher_pass" not in stats and frame["query_id"].nunique() == len(_queries(ds))


def test_per_text_cache_encodes_each_text_once_across_corpora(tiny_model_path, isolated_cache):
    from pseudorel.retrieval.embedding_store import encode_by_content
    from pseudorel.retrieval.models import load_bi_encoder, model_fingerprint

    model = load_bi_encoder(str(tiny_model_path))
    model_id = model_fingerprint(str(tiny_model_path))
    first, second = {}, {}
    a = encode_by_content(model, ["bones", "heart", "lungs"], model_id, progress=False, stats=first)
    b = encode_by_content(model, ["lungs", "bones", "skin", "skin"], model_id, progress=False, stats=second)
    assert first["encoded"] == 3 and second["encoded"] == 1  # only "skin" is new, once
    assert (b[0] == a[2]).all() and (b[1] == a[0]).all() and (b[2] == b[3]).all()
    assert not any((isolated_cache / "embeddings" / "by_text").rglob("pending/*"))  # no shards left behind
