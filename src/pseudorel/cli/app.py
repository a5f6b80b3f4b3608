"""The Typer application that every command module registers on."""

import typer

app = typer.Typer(
    help="Adapt a search system (retriever, reranker, fusion) to a corpus without relevance judgments.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
