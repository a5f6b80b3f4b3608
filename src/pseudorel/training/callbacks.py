"""Trainer callbacks: label weakening's once-per-epoch target sets; a training time limit."""

from __future__ import annotations

import time

from transformers import TrainerCallback

from pseudorel.training.examples import Examples


class TargetSetUpdater(TrainerCallback):
    """Recomputes a LabelWeakeningLoss's target sets at the start of every epoch."""

    def __init__(self, loss, examples: Examples):
        self.loss, self.examples = loss, examples

    def on_epoch_begin(self, args, state, control, **kwargs):
        self.loss.update_targets(self.examples.queries, self.examples.docs)


class StopAfter(TrainerCallback):
    """Ends training at the first step that finishes after ``seconds`` of training (counted from
    this run's start, so a resumed run gets the full allowance again). The last step is saved and,
    when the trainer has an evaluator, evaluated, so the best-checkpoint choice sees it."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.start = time.perf_counter()
        self.stopped = False

    def on_train_begin(self, args, state, control, **kwargs):
        self.start = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        if time.perf_counter() - self.start >= self.seconds and state.global_step < state.max_steps:
            self.stopped = True
            control.should_training_stop = True
            control.should_save = True
            control.should_evaluate = args.eval_strategy != "no"
        return control


ELAPSED_FILE = "pseudorel_elapsed.json"


class RecordElapsed(TrainerCallback):
    """Writes the training seconds so far (earlier runs' included) into each checkpoint, so that a
    resumed run's card counts the whole training, not only its own part."""

    def __init__(self, before: float = 0.0):
        self.before = before
        self.start = time.perf_counter()

    def seconds(self) -> float:
        return self.before + time.perf_counter() - self.start

    def on_save(self, args, state, control, **kwargs):
        import json
        from pathlib import Path

        folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        if folder.is_dir():
            (folder / ELAPSED_FILE).write_text(json.dumps({"seconds": self.seconds()}))


def elapsed_before(checkpoint) -> float:
    """The training seconds recorded in ``checkpoint`` (0 when there is none or no record)."""
    import json

    if checkpoint is None or not (checkpoint / ELAPSED_FILE).is_file():
        return 0.0
    return float(json.loads((checkpoint / ELAPSED_FILE).read_text())["seconds"])
