"""The ``pseudorel`` command line. Heavy libraries load inside the commands that need them."""

from __future__ import annotations

import logging
import sys

import typer

from pseudorel.cli import adapt, evaluate, label, noise, search, train  # noqa: F401  (registers the commands)
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
    try:
        app()
    except PseudorelError as e:
        typer.echo(f"error: {e}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("interrupted: finished work is cached; run the command again to resume", err=True)
        sys.exit(130)
