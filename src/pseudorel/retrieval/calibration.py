"""Which backend runs a model on this machine (``auto``): each backend that can run here encodes
a few documents of the corpus, timed after a warm-up pass; the fastest whose scores rank like
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

from pseudorel._io import atomic_write, cache_root, text_digest
from pseudorel.machine import cpu_summary
from pseudorel.retrieval.backends import (
    BACKENDS,
    EXPORT_VERSION,
    UnsupportedModel,
    available_backends,
    cache_precision,
    native_bf16,
    requested_backend,
    weights_digest,
    with_backend,
)
from pseudorel.retrieval.batch import encode_batch

#: a backend whose scores rank the sample's documents less like fp32's than this is refused
AGREEMENT_MIN = 0.99
#: documents timed per backend (after a warm-up pass over them), in batches as a corpus pass makes them
SAMPLE = 16
BATCH_SIZE = 32
#: a backend whose first pass is this many times slower than the best timed one is not timed again
GIVE_UP = 2.0
#: documents a backend encodes first, once a best exists: one over GIVE_UP x slower stops there
PROBE = 4
#: encoding the default backend would finish sooner than this is not worth a calibration
CALIBRATE_ABOVE_S = 60.0
#: dynamic int8 is assumed no more than this many times faster than ONNX Runtime fp32
INT8_GAIN_MAX = 3.0
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

    return encode_batch(runner, texts, BATCH_SIZE, cache_precision(backend), None, task)


def measure_backend(model, backend: str, documents: list[str], queries: list[str], timed: bool = True):
    """(documents/s, query x document scores) of ``model`` run by ``backend``. The first pass over the
    sample is set-up and warm-up (each batch shape's first run is not speed); with ``timed`` the rate
    is that of a second pass, else of the first (a lower bound, for a backend that already lost)."""
    runner = with_backend(model, backend)
    start = time.perf_counter()
    docs = _encode(runner, backend, documents, "document")
    seconds = time.perf_counter() - start
    scores = _encode(runner, backend, queries, "query") @ docs.T
    if timed:
        start = time.perf_counter()
        _encode(runner, backend, documents, "document")
        seconds = time.perf_counter() - start
    return len(documents) / max(seconds, 1e-6), scores


def _order(candidates: tuple[str, ...]) -> list[str]:
    """PyTorch fp32 first (the reference), then the rest, the usually fastest first so that slow
    ones can be left early; int8 after ONNX fp32, whose speed bounds it."""
    usual = ("torch-bf16", "openvino", "onnx-fp32", "onnx-int8")
    others = [b for b in candidates if b not in (*usual, "torch-fp32")]
    return ["torch-fp32", *[b for b in usual if b in candidates], *others]


def calibrate(
    model,
    documents: list[str],
    candidates: tuple[str, ...] | None = None,
    measure: Callable | None = None,
) -> BackendChoice:
    """Measure the candidate backends (default: those available here) on ``documents`` and pick the
    fastest whose scores rank like fp32's. To keep this to seconds, a backend over ``GIVE_UP``x
    slower than the best timed so far on its first ``PROBE`` documents, or on its first pass, is
    not measured further, and int8 is not tried where even ``INT8_GAIN_MAX``x ONNX fp32 would not
    beat the best."""
    candidates = tuple(candidates or available_backends())
    documents = documents[:SAMPLE]
    queries = [" ".join(d.split()[:QUERY_WORDS]) or d for d in documents]
    measure = measure or measure_backend
    rates, agreement, refused, first_pass = {}, {}, {}, set()
    reference = None

    def best_rate() -> float:
        usable = [rates[b] for b in rates if b not in refused and b not in first_pass]
        return max(usable, default=0.0)

    for backend in _order(candidates):
        if backend == "onnx-int8" and "onnx-fp32" in rates and rates["onnx-fp32"] * INT8_GAIN_MAX < best_rate():
            refused[backend] = f"not tried: {INT8_GAIN_MAX}x ONNX fp32 would still be slower than the best"
            continue
        try:
            if backend != "torch-fp32" and best_rate() > 0:  # a few documents first: a clear loser stops here
                rate, _ = measure(model, backend, documents[:PROBE], queries[:PROBE], timed=False)
                if rate * GIVE_UP < best_rate():
                    rates[backend] = round(rate, 2)
                    first_pass.add(backend)
                    continue
            rate, scores = measure(model, backend, documents, queries, timed=False)
        except (UnsupportedModel, ImportError, RuntimeError, ValueError) as e:
            refused[backend] = f"did not run: {str(e).splitlines()[0][:160]}"
            continue
        reference = scores if reference is None else reference
        agreement[backend] = round(rank_agreement(reference, scores), 4)
        rates[backend] = round(rate, 2)
        if agreement[backend] < AGREEMENT_MIN:
            refused[backend] = f"rank agreement with fp32 {agreement[backend]:.3f} < {AGREEMENT_MIN}"
        elif backend == "torch-fp32" or rate * GIVE_UP < best_rate():
            first_pass.add(backend)  # fp32: timed at the end, where it can still win
        else:
            rates[backend] = round(measure(model, backend, documents, queries, timed=True)[0], 2)
    if "torch-fp32" in first_pass and rates["torch-fp32"] * GIVE_UP >= best_rate():
        rates["torch-fp32"] = round(measure(model, "torch-fp32", documents, queries, timed=True)[0], 2)
        first_pass.discard("torch-fp32")
    usable = [b for b in rates if b not in refused and b in (*candidates, "torch-fp32")]
    best = max(usable, key=lambda b: rates[b])
    base = rates.get("torch-fp32")
    ratio = f", {rates[best] / base:.2f}x PyTorch fp32" if base else ""
    if "torch-fp32" in first_pass:
        ratio = f", over {rates[best] / base:.1f}x PyTorch fp32 (its first pass)"
    reason = f"{best}: {rates[best]:.1f} documents/s here{ratio} (rank agreement {agreement[best]:.3f})"
    slower = sorted(first_pass - {"torch-fp32"})
    if slower:
        reason += "; slower on the first pass: " + ", ".join(f"{b} ({rates[b]:.1f}/s)" for b in slower)
    if refused:
        reason += "; refused: " + "; ".join(f"{b} ({why})" for b, why in refused.items())
    return BackendChoice(best, reason, rates, agreement, refused)


def _machine_key() -> str:
    import torch

    return json.dumps([cpu_summary(), torch.get_num_threads()])


def default_backend() -> str:
    """What runs a model when nothing was measured: PyTorch, bf16 where the CPU has it natively."""
    return "torch-bf16" if native_bf16() else "torch-fp32"


def choose_backend(model, documents: list[str], requested: str = "auto", work: int | None = None) -> BackendChoice:
    """The backend ``model`` runs by: ``requested`` (or ``$PSEUDOREL_BACKEND``) where it names one,
    else the calibrated choice, measured once per machine and model and then read from the cache.
    ``work`` (texts about to be encoded): where no choice is cached and the default backend would
    take under ``CALIBRATE_ABOVE_S`` for them (timed on a few ``documents``), the default runs
    them, unmeasured: the calibration would cost more than it could save (a student's queries)."""

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
    if work is not None and documents:
        default = default_backend()
        probe = documents[: 2 * PROBE]
        rate, _ = measure_backend(model, default, probe, [" ".join(d.split()[:QUERY_WORDS]) for d in probe], False)
        expected = work / max(rate, 1e-6)
        if expected < CALIBRATE_ABOVE_S:
            why = f"about {expected:.0f} s to encode {work:,} texts: too little to be worth measuring the backends"
            return BackendChoice(default, f"{default}: {why}", {default: round(rate, 2)})
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
