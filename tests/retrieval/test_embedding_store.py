"""The per-text embedding store: parts merged by size tier, read incrementally, safe against a
concurrent merge."""

from __future__ import annotations

import numpy as np

import pseudorel.retrieval.embedding_store as store_module
from pseudorel.retrieval.embedding_store import EmbeddingStore, encode_by_content


def _rows(start: int, n: int) -> tuple[list[str], np.ndarray]:
    return [f"t{i}" for i in range(start, start + n)], np.arange(start, start + n, dtype=np.float32)[:, None] * [1, -1]


def _parts(root) -> list:
    return sorted(root.glob("part-*.npz"))


def test_small_parts_are_merged_and_every_row_kept(tmp_path):
    store = EmbeddingStore(tmp_path)
    for k in range(64):  # as a late stage serving 64 searches, each with 5 new documents
        store.add(*_rows(5 * k, 5))
    parts = _parts(tmp_path)
    assert len(parts) <= 3 * (store.fanout - 1)  # O(log n) files, not 64
    found = EmbeddingStore(tmp_path).load()  # a fresh reader (another process)
    assert len(found) == 320 and (found["t317"] == [317, -317]).all()
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_held_store_reads_only_new_parts(tmp_path):
    held, other = EmbeddingStore(tmp_path), EmbeddingStore(tmp_path)
    other.add(*_rows(0, 3))
    assert held.refresh() == 1 and held.refresh() == 0
    other.add(*_rows(3, 2))  # written by someone else after the first read
    assert held.refresh() == 1
    assert set(held.lookup(["t0", "t4", "missing"])) == {"t0", "t4"}


def test_parts_merged_away_by_another_process_are_found_in_the_merged_part(tmp_path, monkeypatch):
    writer = EmbeddingStore(tmp_path)
    for k in range(3):
        writer.add(*_rows(2 * k, 2))
    reader = EmbeddingStore(tmp_path)
    gone = _parts(tmp_path)[0].name
    real_load = store_module.np.load

    def load_after_a_merge(path, *args, **kwargs):  # the part vanishes between listing and reading
        if path.name == gone:
            monkeypatch.setattr(store_module.np, "load", real_load)
            writer.add(*_rows(6, 2))  # the fourth part: the writer merges all four
            raise FileNotFoundError(path)
        return real_load(path, *args, **kwargs)

    monkeypatch.setattr(store_module.np, "load", load_after_a_merge)
    reader.refresh()
    assert len(_parts(tmp_path)) == 1
    assert len(reader.load()) == 8  # the rows of the vanished part come from the merged one


def test_kept_store_is_read_once_across_calls(tiny_model_path, isolated_cache, monkeypatch):
    from pseudorel.retrieval.models import load_bi_encoder, model_fingerprint

    model = load_bi_encoder(str(tiny_model_path))
    model_id = model_fingerprint(str(tiny_model_path))
    encode_by_content(model, ["bones", "heart"], model_id, progress=False)  # written by an earlier run
    opened = []
    real_load = store_module.np.load

    def counted_load(path, *args, **kwargs):  # store parts only (the encoder's shards are .npy)
        if str(path).endswith(".npz"):
            opened.append(path.name)
        return real_load(path, *args, **kwargs)

    monkeypatch.setattr(store_module.np, "load", counted_load)
    first, second = {}, {}
    a = encode_by_content(model, ["heart", "lungs"], model_id, progress=False, keep=True, stats=first)
    assert len(opened) == 1 and first["encoded"] == 1  # the earlier part read once; "lungs" encoded
    b = encode_by_content(model, ["lungs", "heart"], model_id, progress=False, keep=True, stats=second)
    assert len(opened) == 1 and second["encoded"] == 0  # nothing read or encoded again
    assert (a[::-1] == b).all()
