"""``pseudorel evaluate`` and ``pseudorel compare``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pseudorel.cli._options import at_least, model_exists, one_of, writable_output
from pseudorel.cli.app import app
from pseudorel.data.readers import read_qrels
from pseudorel.data.trec import read_run
from pseudorel.errors import UsageError
from pseudorel.retrieval.factory import parse_spec


@app.command()
def evaluate(
    dataset: Annotated[
        str, typer.Option(help="BEIR folder, or a name under $PSEUDOREL_DATA_DIR (downloaded if absent).")
    ],
    retriever: Annotated[str, typer.Option(help="bm25, dense[:MODEL] or hybrid[:MODEL].")] = "bm25",
    split: Annotated[str, typer.Option(help="Qrels split to evaluate on.")] = "test",
    top_k: Annotated[int, typer.Option(help="Documents retrieved per query.")] = 100,
    output: Annotated[Path | None, typer.Option(help="Folder for run.trec, metrics.json, per_query.tsv.")] = None,
    batch_size: Annotated[int, typer.Option(help="Encoding batch size (dense).")] = 32,
    precision: Annotated[
        str,
        typer.Option(
            help="Backend for encoding (dense): auto (measured here), fp32, bf16, onnx-fp32, onnx-int8 or openvino."
        ),
    ] = "auto",
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Re-encode even if embeddings are cached.")] = False,
    rerank: Annotated[
        str | None, typer.Option(help="A cross-encoder folder (e.g. adapt's reranker/) that reorders the top hits.")
    ] = None,
    rerank_depth: Annotated[int, typer.Option(help="Hits per query the reranker reads.")] = 100,
    system: Annotated[
        Path | None, typer.Option(help="A system folder made by pseudorel adapt, instead of --retriever.")
    ] = None,
    index: Annotated[
        str, typer.Option(help="Dense index: exact, ivf or hnsw (approximate: faster past ~1M documents).")
    ] = "exact",
    nprobe: Annotated[int | None, typer.Option(help="IVF cells scanned per query (default nlist/32).")] = None,
) -> None:
    """Retrieve for a dataset's judged queries and report nDCG@10, recall, MRR and MAP."""
    from pseudorel.evaluation.runner import evaluate_retriever, save_report  # start-up: loads numpy

    at_least(rerank_depth, 1, "--rerank-depth")
    at_least(top_k, 1, "--top-k")
    at_least(batch_size, 1, "--batch-size")
    one_of(precision, ("auto", "fp32", "bf16", "onnx-fp32", "onnx-int8", "openvino"), "--precision")
    from pseudorel.retrieval.ann import INDEX_KINDS, IndexSettings  # start-up: loads numpy

    one_of(index, INDEX_KINDS, "--index")
    if nprobe is not None:
        at_least(nprobe, 1, "--nprobe")
    kind, model = parse_spec(retriever)
    if kind == "bm25" and system is None and (index != "exact" or nprobe is not None):
        raise UsageError("--index and --nprobe choose a dense index: --retriever bm25 has none")
    if model is not None:
        model_exists(model, "--retriever")
    if output is not None:
        writable_output(output)
    dense = {
        "batch_size": batch_size,
        "precision": precision,
        "use_cache": not no_cache,
        "index": IndexSettings(kind=index, nprobe=nprobe),
    }
    options = {"rerank": rerank, "rerank_depth": rerank_depth, **({} if retriever == "bm25" else dense)}
    if system is not None:
        from pseudorel.evaluation.runner import evaluate_system  # start-up: loads numpy

        if rerank is not None:
            raise UsageError("--rerank does not combine with --system (the system has its own reranker)")
        report = evaluate_system(dataset, system, split=split, top_k=top_k)
    else:
        report = evaluate_retriever(dataset, retriever, split=split, top_k=top_k, **options)
    _print_metrics(f"{report.dataset} / {report.split} / {report.retriever}", report.evaluation.aggregate)
    if output is not None:
        paths = save_report(report, output)
        typer.echo(f"wrote {', '.join(str(p) for p in paths.values())}")


@app.command()
def compare(
    run_a: Annotated[Path, typer.Argument(help="Baseline TREC run.")],
    run_b: Annotated[Path, typer.Argument(help="Run compared with the baseline.")],
    qrels: Annotated[Path, typer.Option(help="Qrels file (BEIR TSV or TREC).")],
    measure: Annotated[str, typer.Option(help="Measure to test.")] = "nDCG@10",
    method: Annotated[str, typer.Option(help="randomization or t.")] = "randomization",
) -> None:
    """Paired significance test between two runs on the same judged queries."""
    from pseudorel.evaluation import evaluate_run, paired_test  # start-up: loads numpy

    one_of(method, ("randomization", "t"), "--method")
    try:
        import ir_measures

        ir_measures.parse_measure(measure)
    except (ValueError, NameError, SyntaxError, TypeError, AttributeError):
        raise UsageError(f"--measure: '{measure}' is not a measure ir-measures knows (e.g. nDCG@10, RR@10)") from None

    judgments = read_qrels(qrels)
    a = evaluate_run(judgments, read_run(run_a), (measure,))
    b = evaluate_run(judgments, read_run(run_b), (measure,))
    name = next(iter(a.aggregate))
    test = paired_test(a.column(name), b.column(name), name, method=method)
    typer.echo(
        f"{name}: A={test.mean_a:.4f} B={test.mean_b:.4f} delta={test.delta:+.4f} "
        f"p={test.p_value:.4g} ({test.method}, {test.n_queries} queries)"
    )


def _print_metrics(title: str, metrics: dict[str, float]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for name in metrics:
        table.add_column(name, justify="right")
    table.add_row(*(f"{v:.4f}" for v in metrics.values()))
    Console().print(table)
