"""Shared fixtures: the tiny BEIR dataset, a random tiny bi-encoder, isolated caches."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
TINY = FIXTURES / "tiny"
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    """Every test gets its own cache and data directory."""
    monkeypatch.setenv("PSEUDOREL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PSEUDOREL_DATA_DIR", str(FIXTURES))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("PSEUDOREL_AUTO_FETCH", "0")  # adapt's default teacher never downloads nomic in tests
    # one backend on every machine (the backend tests measure and choose); auto's calibration is
    # tested in tests/retrieval/test_calibration.py
    monkeypatch.setenv("PSEUDOREL_BACKEND", "torch-fp32")
    return tmp_path / "cache"


@pytest.fixture(scope="session")
def tiny_dataset_path() -> Path:
    return TINY


def _fixture_words() -> list[str]:
    words: set[str] = set()
    for name in ("corpus.jsonl", "queries.jsonl"):
        words.update(re.findall(r"[a-z0-9]+", (TINY / name).read_text().lower()))
    return sorted(words)


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory) -> Path:
    """A random 2-layer BERT bi-encoder (mean pooling, normalised) saved in ST format."""
    return _tiny_bi_encoder(tmp_path_factory.mktemp("tiny-model"), hidden=32, seed=0)


@pytest.fixture(scope="session")
def tiny_teacher_path(tmp_path_factory) -> Path:
    """Another random bi-encoder, wider (48-d): the expensive teacher in sampled-mode tests."""
    return _tiny_bi_encoder(tmp_path_factory.mktemp("tiny-teacher"), hidden=48, seed=1)


def _tiny_bi_encoder(root: Path, hidden: int, seed: int) -> Path:
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer import modules as models
    from transformers import BertConfig, BertModel, BertTokenizerFast

    torch.manual_seed(seed)
    hf_dir = root / "hf"
    hf_dir.mkdir()
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *_fixture_words(), *"abcdefghijklmnopqrstuvwxyz"]
    vocab += [f"##{c}" for c in "abcdefghijklmnopqrstuvwxyz0123456789"]
    vocab = list(dict.fromkeys(vocab))
    (hf_dir / "vocab.txt").write_text("\n".join(vocab) + "\n")
    BertTokenizerFast(vocab_file=str(hf_dir / "vocab.txt")).save_pretrained(hf_dir)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=hidden,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=2 * hidden,
        max_position_embeddings=128,
    )
    BertModel(config).save_pretrained(hf_dir)
    transformer = models.Transformer(str(hf_dir), max_seq_length=64)
    pooling = models.Pooling(transformer.get_embedding_dimension(), "mean")
    model = SentenceTransformer(modules=[transformer, pooling, models.Normalize()], device="cpu")
    out = root / "st"
    model.save(str(out))
    return out


@pytest.fixture
def labelled(tmp_path, tiny_dataset_path):
    """The tiny corpus and its pseudo-label table (BM25 teacher, real and synthetic queries)."""
    from pseudorel.data import load_beir
    from pseudorel.labels.pipeline import LabelSettings, label_pairs
    from pseudorel.queries import Query, synthetic_queries

    ds = load_beir(tiny_dataset_path, splits=[])
    queries = [Query(q, t) for q, t in ds.queries.items()] + synthetic_queries(ds.corpus, ("title", "ict"))
    frame, _ = label_pairs(ds.corpus, queries, LabelSettings(retrievers=("bm25",)), tmp_path / "w", progress=False)
    return ds.corpus, frame


@pytest.fixture
def system_folder(tmp_path, tiny_dataset_path, tiny_model_path):
    """A system folder: BM25 + the random tiny bi-encoder (copied in as ``retriever``), interpolated."""
    import shutil

    from pseudorel.data import load_beir
    from pseudorel.system import FirstStage, SearchSystem, SystemSpec

    ds = load_beir(tiny_dataset_path, splits=[])
    folder = tmp_path / "system"
    shutil.copytree(tiny_model_path, folder / "retriever")
    spec = SystemSpec(first_stage=FirstStage(dense=("retriever",), fusion="interpolate", weights=(0.6, 0.4)))
    SearchSystem(spec, ds.corpus, folder).save(folder)
    return folder
