"""The Typer application that every command module registers on."""

import typer

from pseudorel.cli._options import one_of

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
    backend: str = typer.Option(
        "auto",
        "--backend",
        help="How models encode: auto (the fastest that ranks like fp32, measured once per machine and model), "
        "torch-fp32, torch-bf16, onnx-fp32, onnx-int8 or openvino.",
    ),
) -> None:
    """Options for every command; they go before the command's name."""
    import logging
    import os

    from pseudorel.retrieval.backends import ALIASES, BACKEND_ENV, BACKENDS  # start-up: loads numpy

    one_of(backend, ("auto", *BACKENDS, *ALIASES), "--backend")
    if backend != "auto":
        os.environ[BACKEND_ENV] = backend  # workers started from here inherit it
    logger = logging.getLogger("pseudorel")
    if quiet:
        os.environ["TQDM_DISABLE"] = "1"  # tqdm reads it when each bar is made
        os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"  # transformers' "Loading weights" bars
        for handler in logger.handlers:
            handler.setLevel(logging.WARNING)
    if log_file:
        handler = logging.FileHandler(log_file)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
