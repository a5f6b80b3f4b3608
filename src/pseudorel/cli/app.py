"""The Typer application that every command module registers on."""

import typer

app = typer.Typer(
    help="Adapt a search system (retriever, reranker, fusion) to a corpus without relevance judgments.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def options(
    quiet: bool = typer.Option(False, "--quiet", help="No progress bars or stage lines; warnings and errors only."),
    log_file: str = typer.Option(None, "--log-file", help="Also write every log line, with times, to this file."),
) -> None:
    """Options for every command; they go before the command's name."""
    import logging
    import os

    logger = logging.getLogger("pseudorel")
    if quiet:
        os.environ["TQDM_DISABLE"] = "1"  # tqdm reads it when each bar is made
        for handler in logger.handlers:
            handler.setLevel(logging.WARNING)
    if log_file:
        handler = logging.FileHandler(log_file)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
