"""Errors a user can act on: each names the file, the line and what is wrong."""

from __future__ import annotations

from pathlib import Path


class PseudorelError(Exception):
    """Base class for errors the CLI reports as one line (exit code 2)."""


class InputError(PseudorelError):
    """Bad input data: names the file and, when known, the line."""

    def __init__(self, path: str | Path | None, message: str, line: int | None = None):
        self.path = None if path is None else str(path)
        self.line = line
        self.message = message
        where = self.path or "<input>"
        if line is not None:
            where = f"{where}:{line}"
        super().__init__(f"{where}: {message}")


class DownloadError(PseudorelError):
    """A dataset could not be fetched or failed verification."""


class UsageError(PseudorelError):
    """A setting or argument the user can correct."""


class NoTrainingData(PseudorelError, ValueError):
    """The labels give a student nothing to learn from (no confident positive, no labelled pair)."""
