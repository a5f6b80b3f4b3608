"""The report of one ``adapt`` run: a typed object that ``adapt`` writes to ``report.json`` and
``pseudorel report`` (or any caller) reads back; the one place that knows the file's shape."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from pseudorel._io import atomic_write
from pseudorel.errors import InputError

FILE = "report.json"


@dataclass
class SystemChoice:
    """What the no-harm guard shipped, what it dropped, and each decision with its reason."""

    shipped: str = "n/a"
    dropped: list[str] = field(default_factory=list)
    decisions: list[dict] = field(default_factory=list)


@dataclass
class RunReport:
    """Settings, teacher, timings and outcomes of an ``adapt`` run (``None``: the stage did not run)."""

    settings: dict = field(default_factory=dict)
    teacher: dict | None = None  # the teacher choice: retrievers, mode and why
    seconds: dict[str, float] = field(default_factory=dict)  # wall time per stage, and "total"
    queries: dict[str, int] = field(default_factory=dict)  # by source: unlabeled, synthetic, llm
    label_stats: dict | None = None
    teacher_pass: dict | None = None  # sampled mode: what the expensive teacher read
    corpus_passes: dict | None = None  # per model: the planned and the actual corpus pass
    held_out_queries: int = 0  # queries kept from training, on which the guard judges
    student: dict | None = None  # sampled mode: the student that carries the teacher to the corpus
    reranker_skipped: str | None = None  # why no reranker was trained
    late_skipped: str | None = None  # sampled mode: why the teacher was not offered at search time
    late_lowered: str | None = None  # sampled mode: why it was offered over fewer documents than asked
    reranker_pairs: int | None = None
    examples: int | None = None  # training queries (towers) or examples the retriever learned from
    refresh: list[dict] | None = None  # what each refresh round did
    system: SystemChoice | None = None
    evaluation: dict | None = None  # test metrics per run, only when the caller passed qrels
    command: str | None = None
    reused: list[str] = field(default_factory=list)  # stages taken from an earlier run with the same inputs

    def as_dict(self) -> dict:
        """The report as ``report.json`` holds it (stages that did not run are left out)."""
        return {k: v for k, v in asdict(self).items() if v is not None and not (k == "reused" and not v)}

    def save(self, folder: Path) -> Path:
        path = Path(folder) / FILE
        with atomic_write(path) as f:
            json.dump(self.as_dict(), f, indent=2, default=str)
        return path

    @classmethod
    def load(cls, folder: str | Path) -> RunReport:
        """The report in ``folder``, or an :class:`InputError` naming the file and what is wrong."""
        path = Path(folder) / FILE
        if not path.is_file():
            raise InputError(folder, f"not an adapt output folder (no {FILE})")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            raise InputError(path, "not UTF-8 text (damaged?)") from None
        except json.JSONDecodeError as e:
            raise InputError(path, f"not JSON ({e.msg})", e.lineno) from None
        if not isinstance(data, dict):
            raise InputError(path, f"not the report adapt writes (a JSON object), but a {type(data).__name__}")
        known = {f.name for f in fields(cls)}  # entries an older version wrote are ignored
        try:
            system = data.get("system")
            entries = {k: v for k, v in data.items() if k in known}
            return cls(**{**entries, "system": None if system is None else SystemChoice(**system)})
        except TypeError as e:
            raise InputError(path, f"not the report adapt writes ({e}); rerun adapt to write it again") from None
