"""Which backend runs a model on this machine (``auto``): each backend that can run here encodes
a few documents of the corpus, timed after a warm-up batch; the fastest whose scores rank like
PyTorch fp32's (a label-free check: every sampled document's words as a query against every
sampled document, mean Spearman correlation per query) is chosen. The choice is cached per
machine (CPU model, speed flags, threads) and model, so every pass over the model in later runs
uses the same backend and the same embedding cache.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from pseudorel.retrieval.backends import (
    BACKENDS,
    EXPORT_VERSION,
    UnsupportedModel,
    available_backends,
    cache_precision,
    requested_backend,
    weights_digest,
    with_backend,
)

#: a backend whose scores rank the sample's documents less like fp32's than this is refused
AGREEMENT_MIN = 0.99
#: documents timed per backend (after a warm-up pass over them), in batches as a corpus pass makes them
SAMPLE = 16
BATCH_SIZE = 32
QUERY_WORDS = 8


@dataclass(frozen=True)
class BackendChoice:
    backend: str
    reason: str
    docs_per_second: dict[str, float] = field(default_factory=dict)
    agreement: dict[str, float] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    ra, rb = ra - ra.mean(), rb - rb.mean()
    denominator = np.sqrt((ra * ra).sum() * (rb * rb).sum())
    return float((ra * rb).sum() / denominator) if denominator > 0 else 1.0


def rank_agreement(reference: np.ndarray, candidate: np.ndarray) -> float:
    """Mean Spearman correlation, per query (row), between two query x document score matrices."""
    return float(np.mean([_spearman(r, c) for r, c in zip(reference, candidate, strict=True)]))


def _encode(runner, backend: str, texts: list[str], task: str) -> np.ndarray:
    from pseudorel.retrieval.encoding import encode_batch

    return encode_batch(runner, texts, BATCH_SIZE, cache_precision(backend), None, task)


def measure_backend(model, backend: str, documents: list[str], queries: list[str]):
    """(documents/s, query x document scores) of ``model`` run by ``backend``: the sample is encoded
    once to warm up (first-call set-up and each batch shape's first run are not speed), then timed."""
    runner = with_backend(model, backend)
    _encode(runner, backend, documents, "document")
    start = time.perf_counter()
    docs = _encode(runner, backend, documents, "document")
    rate = len(documents) / max(time.perf_counter() - start, 1e-6)
    return rate, _encode(runner, backend, queries, "query") @ docs.T


def calibrate(
    model,
    documents: list[str],
    candidates: tuple[str, ...] | None = None,
    measure: Callable | None = None,
) -> BackendChoice:
    """Measure every candidate backend (default: those available here) on ``documents`` and pick."""
    candidates = tuple(candidates or available_backends())
    documents = documents[:SAMPLE]
    queries = [" ".join(d.split()[:QUERY_WORDS]) or d for d in documents]
    measure = measure or measure_backend
    rates, agreement, refused = {}, {}, {}
    reference = None
    for backend in ("torch-fp32", *[c for c in candidates if c != "torch-fp32"]):
        try:
            rate, scores = measure(model, backend, documents, queries)
        except (UnsupportedModel, ImportError, RuntimeError, ValueError) as e:
            refused[backend] = f"did not run: {str(e).splitlines()[0][:160]}"
            continue
        rates[backend] = round(rate, 2)
        reference = scores if reference is None else reference
        agreement[backend] = round(rank_agreement(reference, scores), 4)
        if agreement[backend] < AGREEMENT_MIN:
            refused[backend] = f"rank agreement with fp32 {agreement[backend]:.3f} < {AGREEMENT_MIN}"
    usable = [b for b in rates if b not in refused and b in (*candidates, "torch-fp32")]
    best = max(usable, key=lambda b: rates[b])
    ratio = rates[best] / rates["torch-fp32"] if rates.get("torch-fp32") else 1.0
    reason = (
        f"{best}: {rates[best]:.1f} documents/s here, {ratio:.2f}x PyTorch fp32 (rank agreement {agreement[best]:.3f})"
    )
    if refused:
        reason += "; refused: " + "; ".join(f"{b} ({why})" for b, why in refused.items())
    return BackendChoice(best, reason, rates, agreement, refused)


def _machine_key() -> str:
    import torch

    from pseudorel.machine import cpu_summary

    return json.dumps([cpu_summary(), torch.get_num_threads()])


def choose_backend(model, documents: list[str], requested: str = "auto") -> BackendChoice:
    """The backend ``model`` runs by: ``requested`` (or ``$PSEUDOREL_BACKEND``) where it names one,
    else the calibrated choice, measured once per machine and model and then read from the cache."""
    from pseudorel._io import atomic_write, cache_root, text_digest

    name = requested_backend(requested)
    if name != "auto":
        return BackendChoice(name, f"{name}: as requested")
    candidates = available_backends()
    digest = text_digest(_machine_key(), weights_digest(model), EXPORT_VERSION, *candidates)[:24]
    cached = cache_root() / "speed" / f"backend-{digest}.json"
    if cached.is_file():
        try:
            found = BackendChoice(**json.loads(cached.read_text()))
            if found.backend in BACKENDS:
                return found
        except (ValueError, TypeError):
            pass  # a damaged record: measure again
    logging.getLogger("pseudorel").info(
        "choosing how to run %s here: timing %s on %d documents (once per machine and model)",
        type(model).__name__,
        ", ".join(candidates),
        min(len(documents), SAMPLE),
    )
    choice = calibrate(model, documents, candidates)
    logging.getLogger("pseudorel").info("backend: %s", choice.reason)
    with atomic_write(cached) as f:
        json.dump(choice.as_dict(), f)
    return choice


__all__ = ["AGREEMENT_MIN", "BackendChoice", "calibrate", "choose_backend", "rank_agreement"]
