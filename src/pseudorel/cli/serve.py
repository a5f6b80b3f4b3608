"""``pseudorel serve``: the search service; ``pseudorel corpus``: the written-back documents."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pseudorel.cli._options import at_least, llm_spec
from pseudorel.cli.app import app
from pseudorel.errors import UsageError

corpus_app = typer.Typer(help="The documents written back to a served corpus: list them, take them out.")
app.add_typer(corpus_app, name="corpus")

TOKEN_ENV = "PSEUDOREL_SERVE_TOKEN"
StateOpt = Annotated[Path, typer.Option(help="Folder of the written-back log (serve's --state).")]


@app.command()
def serve(
    system: Annotated[Path | None, typer.Option(help="A system folder from adapt.")] = None,
    dataset: Annotated[str | None, typer.Option(help="Or a BEIR folder or name, with --retriever.")] = None,
    retriever: Annotated[str, typer.Option(help="With --dataset: bm25 or hybrid[:MODEL].")] = "hybrid",
    state: Annotated[Path | None, typer.Option(help="Written-back log (default: SYSTEM/written).")] = None,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    allow_writes: Annotated[
        bool, typer.Option("--allow-writes", help="Enable POST/DELETE /documents (off: 403).")
    ] = False,
    max_body: Annotated[int, typer.Option(help="Largest request body, bytes (larger: 413).")] = 65_536,
    llm: Annotated[
        str | None, typer.Option(help="LLM for the write-back gates (POST /answers): URL(s), gguf:NAME or .gguf.")
    ] = None,
    llm_model: Annotated[str, typer.Option(help="Model name on the HTTP server.")] = "default",
    token: Annotated[
        str | None,
        typer.Option(
            envvar=TOKEN_ENV,
            help=f"Writes must send 'Authorization: Bearer TOKEN' (or set ${TOKEN_ENV}); needed with"
            " --allow-writes on any address but loopback.",
        ),
    ] = None,
) -> None:
    """Serve search over HTTP (FastAPI): /search, /documents, /health and an HTML page at /."""

    at_least(port, 1, "--port")
    if port > 65535:
        raise UsageError(f"--port must be at most 65535, got {port}")
    if token is not None and len(token) < 16:
        raise UsageError(
            "--token: use at least 16 characters (e.g. python -c 'import secrets; print(secrets.token_hex())')"
        )
    if allow_writes and token is None and not _loopback(host):
        raise UsageError(
            f"--allow-writes on {host} lets anyone who reaches the port change the corpus: give --token"
            f" (or ${TOKEN_ENV}), or bind 127.0.0.1"
        )
    at_least(max_body, 1024, "--max-body")
    try:
        import uvicorn

        from pseudorel.serve.app import create_app  # start-up: loads numpy, pandas, pydantic
    except ImportError:
        raise UsageError("serve needs FastAPI and uvicorn: pip install 'pseudorel[serve]'") from None

    llm_spec(llm)
    from pseudorel.system.live import build_live_index  # start-up: loads numpy, pandas
    from pseudorel.writeback.decide import gated_writer  # start-up: loads numpy, pandas

    index = build_live_index(system, dataset, retriever, state)
    writeback = gated_writer(index, llm, llm_model) if llm else None
    title = index.base.spec.describe()
    writes = ("on, with a token" if token else "on") if allow_writes else "off"
    typer.echo(f"serving {title} on http://{host}:{port} (writes {writes})", err=True)
    app_ = create_app(index, allow_writes, max_body, title, writeback, token)
    uvicorn.run(app_, host=host, port=port, log_level="warning")


@corpus_app.command("list-written")
def list_written(state: StateOpt) -> None:
    """The written-back documents still in the corpus, oldest first."""
    from pseudorel.system.written_log import WrittenLog, live_documents  # start-up: loads pandas

    _existing(state)
    for doc_id, record in live_documents(WrittenLog(state).records()).items():
        source = str(record.get("provenance", {}).get("question", ""))
        typer.echo(f"{doc_id}\t{record.get('time', '')}\t{record['text'][:60]!r}\t{source[:60]!r}")


@corpus_app.command("revert")
def revert(
    state: StateOpt,
    since: Annotated[str | None, typer.Option(help="Remove every document written at or after this time.")] = None,
    doc_id: Annotated[str | None, typer.Option("--id", help="Remove this written-back document.")] = None,
) -> None:
    """Take written-back documents out (a running service rebuilds its indexes on its next request)."""
    from pseudorel.system.written_log import WrittenLog, live_documents  # start-up: loads pandas

    _existing(state)
    if (since is None) == (doc_id is None):
        raise UsageError("give --since TIME or --id ID")
    log = WrittenLog(state)
    live = live_documents(log.records())
    if doc_id is not None and doc_id not in live:
        raise UsageError(f"--id: no written-back document '{doc_id}' in {state}")
    chosen = [doc_id] if doc_id is not None else [i for i, r in live.items() if r["time"] >= _time(since)]
    for target in chosen:
        log.append({"op": "remove", "id": target, "reason": "pseudorel corpus revert"})
    typer.echo(f"removed {len(chosen)} written-back document(s)" + (f": {', '.join(chosen[:10])}" if chosen else ""))


def _loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _existing(state: Path) -> None:
    if not (state / "written.jsonl").is_file():
        raise UsageError(f"--state: {state} holds no written-back log (written.jsonl)")


def _time(value: str) -> str:
    """An ISO time as the log writes it (UTC, ``Z``), for comparison as text."""
    from datetime import UTC, datetime

    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--since: '{value}' is not an ISO time (e.g. 2026-11-30T17:00:00Z)") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
