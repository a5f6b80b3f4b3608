"""``pseudorel rag``: retrieve, then answer with an LLM, citing the documents used."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pseudorel.cli._options import at_least, llm_spec, model_exists, one_of, positive_number, writable_output
from pseudorel.cli.app import app
from pseudorel.errors import UsageError
from pseudorel.rag.prompts import TASKS
from pseudorel.rag.run import RagJob, run_job
from pseudorel.retrieval.factory import parse_spec

GATES = "off (always retrieve), closed (never), auto (label-free threshold) or a confidence threshold in [0, 1]"


def _gate(value: str) -> str | float:
    if value in ("off", "closed", "auto"):
        return value
    try:
        threshold = float(value)
    except ValueError:
        raise UsageError(f"--gate: '{value}' is not one of {GATES}") from None
    if not 0 <= threshold <= 1:
        raise UsageError(f"--gate: {threshold} is not in [0, 1]")
    return threshold


@app.command()
def rag(
    dataset: Annotated[str, typer.Option(help="BEIR folder or name: its corpus and the questions of --split.")],
    output: Annotated[Path, typer.Option(help="Folder for answers.jsonl, summary.json (and metrics.json).")],
    llm: Annotated[str, typer.Option(help="http(s)://server/v1 (comma-separated: a pool), gguf:NAME or a .gguf.")],
    split: Annotated[str, typer.Option(help="The questions: this split's queries (judgments not read).")] = "test",
    retriever: Annotated[str, typer.Option(help="bm25, dense[:MODEL] or hybrid[:MODEL].")] = "hybrid",
    system: Annotated[Path | None, typer.Option(help="A system folder from adapt, instead of --retriever.")] = None,
    task: Annotated[
        str, typer.Option(help="claim (verify: true, false or unknown) or question (open answer).")
    ] = "claim",
    k: Annotated[int, typer.Option(help="Documents given to the LLM.")] = 3,
    sample: Annotated[int | None, typer.Option(help="Answer this many questions, drawn with --seed.")] = None,
    seed: Annotated[int, typer.Option()] = 0,
    gate: Annotated[str, typer.Option(help=f"Retrieval gate: {GATES}.")] = "off",
    calibration: Annotated[int, typer.Option(help="With --gate auto: unlabelled questions to set it on.")] = 40,
    llm_model: Annotated[str, typer.Option(help="Model name on the HTTP server.")] = "default",
    llm_seconds: Annotated[float | None, typer.Option(help="Start no new answer after this long.")] = None,
    parallel: Annotated[int, typer.Option(help="LLM requests in flight.")] = 1,
    llm_timeout: Annotated[float, typer.Option(help="Seconds to wait for one LLM answer.")] = 120.0,
    write_back: Annotated[
        bool,
        typer.Option(
            "--write-back",
            help="Put answers that pass the entailment, attribution and novelty gates "
            "into the corpus at --state (question task).",
        ),
    ] = False,
    state: Annotated[
        Path | None, typer.Option(help="Written-back log (default with --system: SYSTEM/written).")
    ] = None,
) -> None:
    """Answer a dataset's questions from retrieved documents; answers cite the documents they used."""

    one_of(task, tuple(TASKS), "--task")
    at_least(k, 1, "--k")
    at_least(parallel, 1, "--parallel")
    at_least(calibration, 2, "--calibration")
    if sample is not None:
        at_least(sample, 1, "--sample")
    positive_number(llm_seconds, "--llm-seconds")
    chosen_gate = _gate(gate)
    llm_spec(llm)
    if system is None:
        model = parse_spec(retriever)[1]
        if model is not None:
            model_exists(model, "--retriever")
    elif not (system / "system.json").is_file():
        raise UsageError(f"--system: {system} is not a system folder (no system.json)")
    if write_back and task != "question":
        raise UsageError("--write-back takes --task question (a claim's verdict is not a document)")
    if write_back and system is None and state is None:
        raise UsageError("--write-back with --dataset needs --state (the folder of written-back documents)")
    writable_output(output)

    job = RagJob(
        dataset=dataset,
        split=split,
        retriever=None if system is not None else retriever,
        system=system,
        task=task,
        k=k,
        sample=sample,
        seed=seed,
        gate=chosen_gate,
        calibration=calibration,
        llm_seconds=llm_seconds,
        parallel=parallel,
        write_back=write_back,
        state=state,
    )
    summary = run_job(job, llm, llm_model, llm_timeout, output)
    typer.echo(
        f"{summary['answered']} answers ({summary['failed']} failed, {summary['retrieval_calls']} retrieval calls, "
        f"{summary['cited_share']:.0%} cite a document) -> {output / 'answers.jsonl'}"
    )
    if "write_back" in summary:
        w = summary["write_back"]
        typer.echo(f"write-back: {w['accepted']} of {w['candidates']} answers passed the gates ({w['decisions']})")
    if summary.get("metrics", {}).get("claims"):
        m = summary["metrics"]
        recall = m.get("evidence_recall_at_k")
        typer.echo(
            f"verdict accuracy {m['accuracy']:.3f}, macro-F1 {m['macro_f1']:.3f} on {m['claims']} claims"
            + ("" if recall is None else f"; evidence recall@{k} {recall:.3f}")
        )
