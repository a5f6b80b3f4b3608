"""What both students share: train with resume from the last checkpoint, then save with a card."""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
from pathlib import Path

from pseudorel._io import _umask, atomic_write
from pseudorel.distributed import barrier, is_main_process, rank, wait_for, world_size

logger = logging.getLogger("pseudorel")


RUN_MARKER = "pseudorel-run.json"


def claim_output(output: Path, key: str) -> None:
    """Make ``output`` the folder of the run fingerprinted ``key``: a model or checkpoints that a
    run with other inputs or settings left there (finished or interrupted) are removed first,
    so that nothing stale is returned or resumed. A folder that holds none of pseudorel's
    training outputs is left as it is."""
    marker = output / RUN_MARKER
    if not is_main_process():  # rank 0 claims the folder; the others wait until it has
        wait_for(lambda: _recorded_fingerprint(marker) == key, f"claim {output}")
        return
    recorded = _recorded_fingerprint(marker)
    ours = any((output / name).exists() for name in (RUN_MARKER, "pseudorel.json", "checkpoints"))
    if recorded != key and ours:
        logger.warning("%s holds a model of another run (other inputs or settings): training anew", output)
        shutil.rmtree(output)
    output.mkdir(parents=True, exist_ok=True)
    if recorded != key:
        with atomic_write(marker) as f:
            json.dump({"fingerprint": key}, f)


def _recorded_fingerprint(marker: Path) -> str | None:
    try:
        return json.loads(marker.read_text()).get("fingerprint")
    except (FileNotFoundError, json.JSONDecodeError):  # absent, or being replaced
        return None


def finished_model(output: Path, required: str, load):
    """The model a finished earlier run saved in ``output`` (``load(path)``), or None: none there,
    or one that does not load (truncated or damaged weights), which is then trained again."""
    if (output / required).is_file() and (output / "pseudorel.json").is_file():
        try:
            return load(str(output))
        except Exception as e:  # torch, safetensors and json each raise their own kind
            logger.warning("%s: the finished model does not load (%s): training it again", output, type(e).__name__)
            (output / "pseudorel.json").unlink()
    return None


def finished_bi_encoder(output: Path):
    """The bi-encoder a finished earlier run saved in ``output``, or None."""
    from sentence_transformers import SentenceTransformer

    return finished_model(output, "modules.json", lambda path: SentenceTransformer(path, device="cpu"))


def base_arguments(output: Path, settings, bf16: bool) -> dict:
    """Trainer arguments every student shares, from its settings (epochs, batch_size,
    learning_rate, warmup_ratio, seed): CPU, checkpoints under ``output/checkpoints``, no reporting."""
    return {
        "output_dir": str(output / "checkpoints"),
        "num_train_epochs": settings.epochs,
        "per_device_train_batch_size": settings.batch_size,
        "learning_rate": settings.learning_rate,
        "warmup_steps": settings.warmup_ratio,  # a float below 1 is a share of the steps
        "bf16": bf16,
        "use_cpu": True,
        "seed": settings.seed,
        "report_to": "none",
    }


def checkpoint_selection(eval_steps: int, metric: str | None) -> dict:
    """Trainer arguments that save a checkpoint every ``eval_steps`` and, given the held-out
    ``metric`` (None: no evaluator), score the untrained model first and keep the best checkpoint."""
    selecting = metric is not None
    return {
        "save_strategy": "steps",
        "save_steps": eval_steps,
        "save_total_limit": 2,
        "eval_strategy": "steps" if selecting else "no",
        "eval_on_start": selecting,  # the untrained model's score: did training help?
        "eval_steps": eval_steps if selecting else None,
        "load_best_model_at_end": selecting,
        "metric_for_best_model": metric,
        "logging_steps": max(1, eval_steps // 2),
    }


def last_complete_checkpoint(folder: Path) -> Path | None:
    """The latest checkpoint the trainer finished writing, or None. A checkpoint is complete once
    it has ``trainer_state.json`` (the trainer writes it last); a partial one, left by a kill
    while it was being written, is removed so that neither resuming nor rotation trips on it."""
    complete = []
    for checkpoint in folder.glob("checkpoint-*"):
        if (checkpoint / "trainer_state.json").is_file():
            complete.append(checkpoint)
        else:
            logger.warning("removing %s: a checkpoint left half-written by an interrupted run", checkpoint)
            shutil.rmtree(checkpoint, ignore_errors=True)
    return max(complete, key=lambda c: int(c.name.rsplit("-", 1)[-1]), default=None)


def train_resumable(trainer, output: Path, time_limit_s: float | None = None) -> dict:
    """Run ``trainer``, resuming from ``output/checkpoints`` if an earlier run left one, and stopping
    after ``time_limit_s`` seconds if given; returns what the model card records of the run."""
    from pseudorel.training.callbacks import (  # start-up: loads numpy, pandas, transformers
        RecordElapsed,
        StopAfter,
        elapsed_before,
    )  # start-up: loads numpy, pandas, transformers

    limit = StopAfter(time_limit_s) if time_limit_s is not None else None
    if limit is not None:
        trainer.add_callback(limit)
    latest = last_complete_checkpoint(output / "checkpoints")
    clock = RecordElapsed(elapsed_before(latest))
    trainer.add_callback(clock)
    trainer.train(resume_from_checkpoint=str(latest) if latest else None)
    metric = trainer.args.metric_for_best_model
    if metric and not metric.startswith("eval_"):
        metric = f"eval_{metric}"
    at_start = next((e[metric] for e in trainer.state.log_history if e.get("step") == 0 and metric in e), None)
    if at_start is not None and trainer.state.best_metric is not None and trainer.state.best_metric <= at_start:
        logger.warning(
            "training did not improve %s on held-out pseudo-labels (%.4f at start, best %.4f)",
            metric,
            at_start,
            trainer.state.best_metric,
        )
    return {
        "train_seconds": round(clock.seconds(), 1),  # earlier interrupted runs included
        "steps_done": trainer.state.global_step,
        "stopped_by_time_limit": bool(limit and limit.stopped),
        # the label-free model-selection signal (held-out pseudo-labels), when there is one
        "best_held_out_metric": trainer.state.best_metric,
        "held_out_metric_at_start": at_start,
        # the held-out pseudo-label metric at each evaluation step, for the report's training curve
        "held_out_curve": [[e["step"], e[metric]] for e in trainer.state.log_history if metric and metric in e],
        "best_step": _step_of(trainer.state.best_model_checkpoint),
    }


def _step_of(checkpoint: str | None) -> int | None:
    return int(checkpoint.rsplit("-", 1)[-1]) if checkpoint else None


@contextlib.contextmanager
def quiet_loading(summary: str):
    """Load a model without the libraries' load report (e.g. a new classifier head's "MISSING"
    weights, expected when a bi-encoder becomes a reranker), and say ``summary`` in one line."""
    import logging as std_logging

    from transformers.utils import logging as hf_logging

    level, st_logger = hf_logging.get_verbosity(), std_logging.getLogger("sentence_transformers")
    st_level = st_logger.level
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    st_logger.setLevel(std_logging.ERROR)
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        hf_logging.enable_progress_bar()
        st_logger.setLevel(st_level)
    logger.info(summary)


def usual_modes(folder: Path) -> None:
    """Give every file under ``folder`` the mode the umask gives a new file (safetensors writes
    its weights 0600, which a system folder shared with a service's user must not keep)."""

    mode = 0o666 & ~_umask()
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            path.chmod(mode)


def save_with_card(model, output: Path, record: dict) -> None:
    """Save ``model``, record how it was trained (pseudorel.json + README section), drop checkpoints.
    In a distributed run only rank 0 writes."""
    if is_main_process():
        _save(model, output, {**record, "processes": world_size()})
    else:
        logger.info("rank %d of %d: rank 0 saves the model", rank(), world_size())
    barrier()  # the other ranks go on (and may read the card) once rank 0 has written it


def _save(model, output: Path, record: dict) -> None:
    model.save(str(output))
    usual_modes(output)
    with atomic_write(output / "pseudorel.json") as f:
        json.dump(record, f, indent=2, default=str)
    readme = output / "README.md"
    text = readme.read_text() if readme.is_file() else ""
    lines = ["", "## Trained by pseudorel (no human relevance judgments)", ""]
    lines += [f"- **{k}**: {json.dumps(v, default=str)}" for k, v in record.items()]
    with atomic_write(readme) as f:
        f.write(text + "\n".join(lines) + "\n")
    shutil.rmtree(output / "checkpoints", ignore_errors=True)
