"""``pseudorel report``: an adapt run, at a glance, as one self-contained HTML file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pseudorel.cli._options import writable_output
from pseudorel.cli.app import app


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="An adapt output folder (with report.json).")],
    output: Annotated[Path | None, typer.Option(help="HTML file to write (default: RUN_DIR/report.html).")] = None,
) -> None:
    """Write the run's HTML report: labels, training, the guard's decisions, warnings, evaluation."""
    from pseudorel.report import build_report  # start-up: loads numpy, pandas

    if output is not None:
        writable_output(output, folder=False)
    path = build_report(run_dir, output)
    typer.echo(f"report: {path}")
