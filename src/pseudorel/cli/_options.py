"""Checks of option values shared by several commands: a bad value is a one-line UsageError
before any work starts, not a traceback from deep inside a stage an hour later."""

from __future__ import annotations

from typing import Annotated

import typer

from pseudorel.distributed import is_main_process
from pseudorel.errors import UsageError
from pseudorel.queries.synthetic import GENERATORS
from pseudorel.retrieval.factory import parse_spec
from pseudorel.retrieval.models import MINILM_ALIASES, MPNET_ALIASES, NOMIC_ALIASES
from pseudorel.teachers.prompts import DOMAINS


def prompt_domain(value: str, option: str) -> str:
    """``value`` if it names a prompt domain (generic, claim, question, topic)."""

    if value not in DOMAINS:
        raise UsageError(f"{option} must be one of {', '.join(DOMAINS)}; got '{value}'")
    return value


def retriever_loss(spec: str, option: str = "--loss") -> tuple[str, dict]:
    """A bi-encoder loss name and its hyperparameters, from ``name`` or ``name[key=value,...]``."""
    from pseudorel.training.losses import parse_loss_spec  # start-up: loads torch

    try:
        return parse_loss_spec(spec)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None


def at_least(value: int | None, minimum: int, option: str) -> int | None:
    """``value`` if it is None or at least ``minimum``."""
    if value is not None and value < minimum:
        raise UsageError(f"{option} must be at least {minimum}, got {value}")
    return value


def positive_number(value: float | None, option: str) -> float | None:
    """``value`` if it is None or a finite number above 0 (not nan, not inf)."""
    import math

    if value is not None and not (math.isfinite(value) and value > 0):
        raise UsageError(f"{option} must be a finite number above 0, got {value}")
    return value


def one_of(value: str, allowed, option: str) -> str:
    if value not in allowed:
        raise UsageError(f"{option} must be one of {', '.join(allowed)}; got '{value}'")
    return value


def synthetic_kinds(text: str | None, option: str = "--synthetic") -> tuple[str, ...]:
    """Comma-separated synthetic query kinds, each one that exists."""

    kinds = tuple(k.strip() for k in (text or "").split(",") if k.strip())
    for kind in kinds:
        one_of(kind, tuple(GENERATORS), option)
    return kinds


def retriever_specs(text: str, option: str = "--retrievers", allow_auto: bool = False) -> tuple[str, ...]:
    """Comma-separated ``bm25`` / ``dense[:MODEL]`` specs (or ``auto``, where allowed); a model
    path must exist."""

    specs = tuple(part.strip() for part in text.split(",") if part.strip())
    if specs == ("auto",) and allow_auto:
        return specs
    if not specs:
        raise UsageError(f"{option} needs at least one retriever (bm25, dense[:MODEL])")
    for spec in specs:
        kind, model = parse_spec(spec)
        if kind == "hybrid":
            raise UsageError(f"{option} takes bm25 and dense[:MODEL], not '{spec}'")
        if model is not None:
            model_exists(model, option)
    return specs


def model_exists(name: str, option: str) -> str:
    """``name`` if it is a known alias, an existing path, or a bare hub-style name (org/model)."""
    from pathlib import Path

    if name.lower() in MINILM_ALIASES | MPNET_ALIASES | NOMIC_ALIASES or Path(name).expanduser().exists():
        return name
    if name.startswith((".", "/", "~")) or name.count("/") > 1 or name.endswith(".gguf"):
        raise UsageError(f"{option}: model '{name}' not found (no such file or folder)")
    return name


def llm_spec(value: str | None, option: str = "--llm") -> str | None:
    """An http(s) URL (several, comma-separated: a pool of servers), ``gguf:NAME`` or a ``.gguf`` path."""
    if value is None:
        return None
    parts = value.split(",") if "," in value else [value]
    for part in parts:
        if ("://" in part or len(parts) > 1) and not part.strip().startswith(("http://", "https://")):
            raise UsageError(f"{option}: '{part}' is not an http(s) URL, gguf:NAME or a .gguf file")
    return value


def writable_output(path, option: str = "--output", folder: bool = True):
    """Check, before any work, that ``path`` (a folder, or a file's folder) can be created and
    written: a clear error instead of a traceback after hours of work."""
    import contextlib
    import os
    import tempfile
    from pathlib import Path

    path = Path(path)
    target = path if folder else path.parent
    if not is_main_process():  # under torchrun rank 0 checks (the probe folder would race)
        return path
    if folder and path.exists() and not path.is_dir():
        raise UsageError(f"{option}: {path} exists and is not a folder")
    if not folder and path.is_dir():
        raise UsageError(f"{option}: {path} is a folder, not a file")
    missing = [p for p in (target, *target.parents) if not p.exists()]
    try:
        target.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target, prefix=".pseudorel-write-check-"):
            pass
    except OSError as e:
        raise UsageError(f"{option}: cannot write to {target} ({os.strerror(e.errno) if e.errno else e})") from None
    finally:
        for created in missing:  # leave no trace: the command creates what it needs when it writes
            with contextlib.suppress(OSError):
                created.rmdir()
    return path


RERANKER_LOSSES = ("listwise", "distill", "bce")
RerankerLossOpt = Annotated[
    str,
    typer.Option(
        help="Reranker loss: listwise (confident positive vs hard negatives), distill (listwise KL to the "
        "teacher's graded scores over each query's top candidates) or bce."
    ),
]


TeacherModeOpt = Annotated[
    str,
    typer.Option(
        help="full: the expensive teacher (nomic, any dense model after the first) encodes the whole corpus; "
        "sampled: it reads only the candidate pairs of a sample of queries (--teacher-pairs) and a student "
        "carries it to the corpus; auto: full where this machine's measured speed allows (an hour, or 40% of "
        "--time-budget), else sampled."
    ),
]
TeacherPairsOpt = Annotated[
    int, typer.Option(help="With sampled teaching: the most (query, document) pairs the expensive teacher reads.")
]
LateDepthOpt = Annotated[
    int,
    typer.Option(
        help="With sampled teaching: the guard may also ship the expensive teacher read at search time on "
        "each query's top N documents (cached, so each document is read once; 0: never)."
    ),
]
LateMaxSecondsOpt = Annotated[
    float,
    typer.Option(
        help="A search over documents the teacher has not read yet waits at most this long at the teacher's "
        "speed measured here: the late stage reads fewer documents to fit (not below 10), or is not offered."
    ),
]
TeacherFusionOpt = Annotated[
    str,
    typer.Option(
        help="How the teacher fuses its retrievers: interpolate (min-max scores, equal weights) or rrf "
        "(reciprocal ranks)."
    ),
]


ExecutorOpt = Annotated[
    str,
    typer.Option(
        help="Where sharded stages run: local (this process) or ray (the ray extra: pip install pseudorel\\[ray])."
    ),
]
RayAddressOpt = Annotated[
    str | None, typer.Option(help="With --executor ray: a running cluster's address (default: start a local one).")
]
WorkersOpt = Annotated[int | None, typer.Option(help="With --executor ray: workers (default: the cluster's CPUs).")]


def check_executor_options(executor: str, ray_address: str | None, workers: int | None) -> str:
    """``executor`` if it and the Ray options that go with it make sense together."""
    from pseudorel.scale import EXECUTORS  # start-up: loads numpy

    one_of(executor, EXECUTORS, "--executor")
    if workers is not None:
        at_least(workers, 1, "--workers")
    if executor == "local" and (ray_address or workers):
        raise UsageError("--ray-address and --workers need --executor ray")
    return executor


def executor_from_options(executor: str, ray_address: str | None, workers: int | None):
    """The executor the options name (a context manager that shuts down what it started)."""
    from pseudorel.scale import make_executor  # start-up: loads numpy

    check_executor_options(executor, ray_address, workers)
    return make_executor(executor, address=ray_address, workers=workers)
