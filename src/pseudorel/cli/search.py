"""``pseudorel search``: query a system folder made by ``pseudorel adapt``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from pseudorel.cli._options import at_least, writable_output
from pseudorel.cli.app import app
from pseudorel.data.readers import read_queries
from pseudorel.data.trec import write_run
from pseudorel.errors import UsageError


@app.command()
def search(
    system: Annotated[Path, typer.Option(help="A system folder (system.json), e.g. adapt's --output.")],
    query: Annotated[list[str] | None, typer.Option(help="A query; repeat for several.")] = None,
    queries: Annotated[Path | None, typer.Option(help="A queries file (JSONL/CSV/TSV) instead of --query.")] = None,
    top_k: Annotated[int, typer.Option(help="Hits per query.")] = 10,
    output: Annotated[Path | None, typer.Option(help="Write a TREC run here instead of printing hits.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per query.")] = False,
) -> None:
    """Search with a saved system: BM25 + dense fusion, then its reranker if it kept one."""
    from pseudorel.system import SearchSystem  # start-up: loads pandas

    at_least(top_k, 1, "--top-k")
    if output is not None:
        writable_output(output, folder=False)
    if bool(query) == (queries is not None):
        raise UsageError("give --query (one or more) or --queries FILE")
    texts = read_queries(queries) if queries is not None else {f"q{i}": q for i, q in enumerate(query or [], 1)}
    if queries is None and any(not q.strip() for q in texts.values()):
        raise UsageError("--query: an empty query (the service refuses one too)")
    engine = SearchSystem.load(system)
    run = engine.search(texts, top_k)
    if output is not None:
        write_run(run, output, tag="pseudorel-system")
        typer.echo(f"wrote {output} ({len(run)} queries); system: {engine.spec.describe()}")
        return
    for qid, text in texts.items():
        hits = sorted(run.get(qid, {}).items(), key=lambda x: -x[1])
        if as_json:
            found = [{"doc_id": d, "score": s} for d, s in hits]
            typer.echo(json.dumps({"query_id": qid, "query": text, "hits": found}))
            continue
        typer.echo(f"{qid}: {text}")
        for rank, (doc_id, score) in enumerate(hits, 1):
            title = engine.corpus[doc_id].title or engine.corpus[doc_id].text
            typer.echo(f"  {rank:>3}. {doc_id}  {score:.4f}  {title[:80]}")
