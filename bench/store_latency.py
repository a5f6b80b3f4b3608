"""What the per-text embedding store costs a search as a late stage serves queries: each search
asks the store for 20 documents, a few of them new (encoded and written as a new part). Before,
every search read every part of the store; now the searching process holds the store, reads only
new parts, and parts are merged by size tier. Both measured in the same run.

    .venv/bin/python bench/store_latency.py [--searches 1000] [--stored 10000]

The store starts with ``--stored`` documents (random 768-dimensional rows: what the teacher read at
adapt time), then ``--searches`` searches each look up 15 stored documents and 5 new ones (short
texts MiniLM really encodes; the encoder stands in for nomic, whose reading time is the same in both
ways and measured in bench/late_latency). At checkpoints, a search whose 20 documents are all stored
is timed 5 times (median): the cached-search latency a user sees.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _report import Report

BASE = "all-MiniLM-L6-v2"


def serve(model, model_id: str, cache: Path, stored: list[str], searches: int, held: bool) -> dict:
    """Run the searches against one store; ``held`` False is the way before (every call reads
    every part, never merged)."""
    import pseudorel.retrieval.embedding_store as store

    store.EmbeddingStore.fanout = 4 if held else 10**9
    rng = np.random.default_rng(0)
    checkpoints = {0, searches // 4, searches // 2, searches}

    def lookup(texts: list[str]) -> float:
        start = time.perf_counter()
        store.encode_by_content(model, texts, model_id, task="document", cache_dir=cache, progress=False, keep=held)
        return time.perf_counter() - start

    cached, served = {}, []
    for k in range(searches + 1):
        if k in checkpoints:
            cached[k] = round(statistics.median(lookup(list(rng.choice(stored, 20))) for _ in range(5)), 4)
        if k < searches:
            new = [f"new document {k}-{j}: a short text the late stage has not read" for j in range(5)]
            served.append(lookup([*rng.choice(stored, 15), *new]))
    parts = len(list((cache / "by_text").rglob("part-*.npz")))
    return {"cached_search_s": cached, "served_median_s": round(statistics.median(served), 4), "parts_on_disk": parts}


def markdown(data: dict) -> str:
    lines = [
        "| store | cached search after 0 / 25% / 50% / 100% of the searches (median s) | served search median s "
        "| parts on disk |",
        "|---|---|---|---|",
    ]
    for way, r in data["ways"].items():
        cached = " / ".join(str(v) for v in r["cached_search_s"].values())
        lines.append(f"| {way} | {cached} | {r['served_median_s']} | {r['parts_on_disk']} |")
    if "speedup_cached_search_at_end" in data:
        lines.append(f"\nCached search at the end, before / now: {data['speedup_cached_search_at_end']}x.\n")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--searches", type=int, default=1000)
    parser.add_argument("--stored", type=int, default=10000)
    args = parser.parse_args()
    from pseudorel.retrieval.embedding_store import EmbeddingStore, _digest, encode_by_content
    from pseudorel.retrieval.encoding import is_asymmetric
    from pseudorel.retrieval.models import load_bi_encoder, model_fingerprint, resolve_model

    model = load_bi_encoder(BASE)
    model_id = model_fingerprint(resolve_model(BASE))
    assert not is_asymmetric(model)
    stored = [f"stored document {i}" for i in range(args.stored)]
    report = Report("store_latency")
    report.data = {"searches": args.searches, "stored": args.stored, "ways": {}}
    for way, held in (("before: every search reads every part", False), ("now: held store, parts merged", True)):
        with tempfile.TemporaryDirectory() as tmp:
            cache = Path(tmp)
            dim = model.get_embedding_dimension()
            # the documents read before serving, as one part in the folder encode_by_content uses
            encode_by_content(model, ["probe"], model_id, task="document", cache_dir=cache, progress=False)
            (setting,) = (cache / "by_text").iterdir()
            rows = np.random.default_rng(1).standard_normal((args.stored, dim)).astype(np.float32)
            EmbeddingStore(setting).add([_digest(t) for t in stored], rows)
            report.data["ways"][way] = serve(model, model_id, cache, stored, args.searches, held)
        report.save(markdown(report.data))
    before, now = (r["cached_search_s"][args.searches] for r in report.data["ways"].values())
    report.data["speedup_cached_search_at_end"] = round(before / now, 1)
    report.save(markdown(report.data), complete=True)


if __name__ == "__main__":
    main()
