"""``pseudorel ingest``: folders of documents into a BEIR folder that ``adapt`` and ``serve`` read."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pseudorel._io import hold_output
from pseudorel.cli._options import at_least, model_exists, writable_output
from pseudorel.cli.app import app
from pseudorel.errors import UsageError
from pseudorel.ingest import ingest as run_ingest


@app.command()
def ingest(
    sources: Annotated[
        list[Path], typer.Argument(help="Folders (read recursively) and files: PDF, DOCX, HTML, MD, TXT.")
    ],
    output: Annotated[Path, typer.Option(help="The BEIR folder to write (corpus.jsonl; queries.jsonl).")],
    queries: Annotated[
        Path | None, typer.Option(help="A query log: one query a line, or CSV/TSV with a query column (and count).")
    ] = None,
    max_tokens: Annotated[int, typer.Option(help="Most tokens a passage holds (the student's reading length).")] = 256,
    overlap: Annotated[int, typer.Option(help="Tokens repeated between windows of a long paragraph.")] = 32,
    model: Annotated[str, typer.Option(help="Whose tokenizer counts the tokens.")] = "all-MiniLM-L6-v2",
    strict: Annotated[bool, typer.Option("--strict", help="Stop at the first file that cannot be read.")] = False,
) -> None:
    """Ingest documents: text out of each file, passages within the token limit with their source,
    page and headings, duplicates dropped; a rerun re-reads only what changed."""

    at_least(max_tokens, 16, "--max-tokens")
    at_least(overlap, 0, "--overlap")
    if overlap >= max_tokens // 2:
        raise UsageError(f"--overlap must be under half of --max-tokens ({max_tokens}), got {overlap}")
    model_exists(model, "--model")
    writable_output(output)
    hold_output(output, "pseudorel ingest")
    summary = run_ingest(
        sources, output, max_tokens, overlap, model, queries, strict, say=lambda line: typer.echo(line, err=True)
    )
    for line in summary.lines():
        typer.echo(line)
    typer.echo(f"-> {output / 'corpus.jsonl'} (pseudorel adapt --dataset {output})")
