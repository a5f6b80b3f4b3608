"""``system.json``: which parts a search system has and how they are put together."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pseudorel._io import atomic_write
from pseudorel.errors import InputError
from pseudorel.retrieval.fusion import FUSION_METHODS

SPEC_FILE = "system.json"
FORMAT = 1


@dataclass(frozen=True)
class FirstStage:
    """BM25 and dense models fused (no ``dense``: BM25 alone), each searched to ``depth``.

    ``weights`` are BM25's, then each dense model's; ``fusion`` is ``rrf`` or ``interpolate``
    (min-max scores). A ``dense`` path is relative to the system folder; anything else is a
    model name (``all-MiniLM-L6-v2``, ``nomic``, a folder).
    """

    dense: tuple[str, ...] = ("all-MiniLM-L6-v2",)
    fusion: str = "rrf"
    weights: tuple[float, ...] = (1.0, 1.0)
    depth: int = 100

    def describe(self) -> str:
        if not self.dense:
            return "bm25"
        models = " + ".join(f"dense:{d}" for d in self.dense)
        weights = "/".join(f"{w:g}" for w in self.weights)
        return f"bm25 + {models} ({self.fusion}, weights {weights})"


@dataclass(frozen=True)
class LateStage:
    """An expensive dense model (the sampled teacher's, e.g. ``nomic``) read at search time: it
    embeds the query and the first stage's top ``depth`` documents (cached by content, so no
    document is read twice) and its cosine over them joins the first stage's fusion with
    ``weight``, as the teacher fuses. The cost grows with queries x ``depth``, not with the corpus."""

    model: str
    depth: int = 20
    weight: float = 1.0

    def describe(self) -> str:
        return f"dense:{self.model} on the top {self.depth} at search time (weight {self.weight:g})"


@dataclass(frozen=True)
class RerankStage:
    """A cross-encoder reads each query's top ``depth``; its min-max normalised score is mixed
    with the first stage's as ``weight * reranker + (1 - weight) * first stage``."""

    model: str
    depth: int = 50
    weight: float = 1.0

    def describe(self) -> str:
        return f"rerank top {self.depth} by {self.model} (weight {self.weight:g})"


@dataclass
class SystemSpec:
    first_stage: FirstStage = field(default_factory=FirstStage)
    reranker: RerankStage | None = None
    corpus: str = "corpus.jsonl"  # relative to the system folder
    corpus_digest: str = ""
    decisions: list[dict] = field(default_factory=list)  # the guard's record, for the reader
    models: dict[str, str] = field(default_factory=dict)  # each model's identity when saved
    format: int = FORMAT
    late: LateStage | None = None  # after the first stage, before the reranker

    def model_names(self) -> tuple[str, ...]:
        """The dense models, the late one, then the reranker."""
        late = (self.late.model,) if self.late else ()
        return (*self.first_stage.dense, *late, *([self.reranker.model] if self.reranker else []))

    def describe(self) -> str:
        parts = [self.first_stage.describe()]
        if self.late is not None:
            parts.append(self.late.describe())
        if self.reranker is not None:
            parts.append(self.reranker.describe())
        return " >> ".join(parts)

    def save(self, folder: str | Path) -> Path:
        path = Path(folder) / SPEC_FILE
        with atomic_write(path) as f:
            json.dump(asdict(self), f, indent=2)
            f.write("\n")
        return path

    @classmethod
    def load(cls, folder: str | Path) -> SystemSpec:
        path = Path(folder) / SPEC_FILE
        if not path.is_file():
            raise InputError(folder, f"not a system folder (no {SPEC_FILE}); make one with pseudorel adapt")
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if raw.get("format") != FORMAT:
                raise ValueError(f"format {raw.get('format')} is not {FORMAT}")
            first = raw["first_stage"]
            first_stage = FirstStage(
                tuple(first["dense"]), first["fusion"], tuple(float(w) for w in first["weights"]), int(first["depth"])
            )
            rerank = raw.get("reranker")
            reranker = None if rerank is None else RerankStage(rerank["model"], int(rerank["depth"]), rerank["weight"])
            late = raw.get("late")
            late = None if late is None else LateStage(late["model"], int(late["depth"]), float(late["weight"]))
            spec = cls(
                first_stage,
                reranker,
                raw["corpus"],
                raw.get("corpus_digest", ""),
                raw.get("decisions", []),
                dict(raw.get("models", {})),
                late=late,
            )
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise InputError(path, f"malformed system spec: {e}") from None
        spec.validate(path)
        return spec

    def validate(self, path: str | Path) -> None:
        first = self.first_stage
        if first.fusion not in FUSION_METHODS:
            raise InputError(path, f"unknown fusion '{first.fusion}' ({', '.join(FUSION_METHODS)})")
        if len(first.weights) != 1 + len(first.dense) or first.depth < 1:
            raise InputError(path, "first_stage needs one weight for BM25 and each dense model, and a depth >= 1")
        if self.reranker is not None and not (self.reranker.depth >= 1 and 0 < self.reranker.weight <= 1):
            raise InputError(path, "reranker needs a depth of at least 1 and a weight in (0, 1]")
        if self.late is not None and not (self.late.depth >= 1 and self.late.weight > 0):
            raise InputError(path, "late needs a depth of at least 1 and a positive weight")
