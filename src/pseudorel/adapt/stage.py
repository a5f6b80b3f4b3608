"""What every stage of ``adapt`` shares: the output folder, the record of what each stage was
made from, the report, the clock and the time budget; and the one way a stage is cached
(fingerprint its inputs, reuse what an earlier run made from the same inputs, or make it and
record it)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

from pseudorel.adapt.settings import AdaptSettings
from pseudorel.errors import PseudorelError
from pseudorel.fingerprints import StageRecord
from pseudorel.report.run_report import RunReport

logger = logging.getLogger("pseudorel")
T = TypeVar("T")


@dataclass
class Run:
    """One ``adapt`` run in ``output``: its settings, report and stage record."""

    output: Path
    settings: AdaptSettings
    report: RunReport
    started: float = field(default_factory=time.perf_counter)

    def __post_init__(self) -> None:
        self.stages = StageRecord(self.output / "stages.json")

    def cached_stage(self, name: str, key: str, path: Path, make: Callable[[], T], load: Callable[[Path], T]) -> T:
        """What an earlier run made for stage ``name`` from the same inputs (``key``, a fingerprint),
        loaded from ``path``; else ``make()``, which writes ``path``, recorded as made from ``key``.
        A result made from other inputs, or one that does not load (truncated, damaged), is made
        again rather than left for the user to delete."""
        if self.stages.matches(name, key, path):
            try:
                made = load(path)
            except (PseudorelError, OSError, ValueError) as e:
                logger.warning("%s: an earlier run's %s does not load (%s): making it again", path, name, e)
            else:
                self.report.reused.append(name)
                logger.info("stage %s: reused from an earlier run with the same inputs (%s)", name, path.name)
                return made
        made = make()
        self.stages.record(name, key)
        return made

    def done(self, name: str, start: float, summary: str = "") -> None:
        """Record the stage's wall time and say, in one line, that it ended and what it made."""
        self.report.seconds[name] = round(time.perf_counter() - start, 1)
        logger.info("stage %s done in %.1f s%s", name, self.report.seconds[name], f": {summary}" if summary else "")

    def within_budget(self, train_settings: T, share: float = 1.0) -> T:
        """``train_settings`` limited to ``share`` of the time left in the budget (if there is one)."""
        if self.settings.time_budget_s is None:
            return train_settings
        left = self.settings.time_budget_s - (time.perf_counter() - self.started)
        return replace(train_settings, time_limit_s=max(0.0, share * left))
