"""The ``pseudorel`` command line. Heavy libraries load inside the commands that need them."""

from __future__ import annotations

import logging
import os
import signal
import sys

import typer

from pseudorel.cli import adapt, evaluate, ingest, label, noise, rag, report, search, serve, train  # noqa: F401  (registers the commands)
from pseudorel.cli.app import app
from pseudorel.errors import PseudorelError


def main() -> None:
    """Entry point: one-line errors with exit code 2 instead of tracebacks."""
    logger = logging.getLogger("pseudorel")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    previous = signal.signal(signal.SIGINT, _interrupted)
    try:
        app()
    except PseudorelError as e:
        typer.echo(f"error: {e}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        _interrupted()
    finally:  # a caller that runs main() in-process (the tests) keeps its own Ctrl-C handling
        signal.signal(signal.SIGINT, previous)


def _interrupted(*_signal) -> None:
    """Ctrl-C: stop now, as a kill would. Every output is written atomically, every LLM answer
    committed as it arrives and a half-written checkpoint is skipped on resume, so nothing is
    lost but the work in flight; waiting (for a hung LLM request, a trainer's cleanup) is not."""
    sys.stdout.flush()
    sys.stderr.write("interrupted: finished work is cached; run the command again to resume\n")
    sys.stderr.flush()
    os._exit(130)
