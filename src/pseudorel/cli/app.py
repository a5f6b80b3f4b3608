"""The Typer application that every command module registers on."""

import typer

app = typer.Typer(
    help="Train retrievers and rerankers for a corpus without relevance judgments.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
