"""kill -9 in the middle of writing a checkpoint, for real: a subprocess kills
itself after the checkpoint's weights are written and before its trainer state is."""

import json
import os
import subprocess
import sys

import pytest

SCRIPT = """
import os, signal, sys
import transformers
from pseudorel.data import load_beir
from pseudorel.labels.pipeline import LabelSettings, label_pairs
from pseudorel.queries import Query, synthetic_queries
from pseudorel.training.bi_encoder import TrainSettings, train_bi_encoder
from pseudorel.training.examples import ExampleSettings, build_examples

tiny, model, out, kill_at = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
ds = load_beir(tiny, splits=[])
queries = [Query(q, t) for q, t in ds.queries.items()] + synthetic_queries(ds.corpus, ("title", "ict"))
frame, _ = label_pairs(ds.corpus, queries, LabelSettings(retrievers=("bm25",)), out + "-work", progress=False)
examples = build_examples(frame, ds.corpus, ExampleSettings(negatives=1))
real = transformers.Trainer._save_rng_state

def save_rng_state(self, output_dir):  # called after the weights, before trainer_state.json
    if self.state.global_step == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)
    return real(self, output_dir)

transformers.Trainer._save_rng_state = save_rng_state
settings = TrainSettings(epochs=4, batch_size=4, eval_fraction=0.0, eval_steps=2, bf16=False)
train_bi_encoder(model, examples, out, settings)
print("finished")
"""


@pytest.mark.fault(
    "kill -9 while a checkpoint is being written, then the same command again",
    "the half-written checkpoint is removed; training resumes from the last complete one and finishes",
)
def test_kill_while_writing_a_checkpoint(tmp_path, tiny_dataset_path, tiny_model_path):
    out = str(tmp_path / "student")
    command = [sys.executable, "-c", SCRIPT, str(tiny_dataset_path), str(tiny_model_path), out]
    killed = subprocess.run([*command, "6"], capture_output=True, text=True, timeout=300, env=os.environ)
    assert killed.returncode == -9, killed.stderr[-2000:]
    partial = tmp_path / "student" / "checkpoints" / "checkpoint-6"
    assert partial.is_dir() and not (partial / "trainer_state.json").exists()
    resumed = subprocess.run([*command, "-1"], capture_output=True, text=True, timeout=300, env=os.environ)
    assert resumed.returncode == 0 and "finished" in resumed.stdout, resumed.stderr[-2000:]
    assert "half-written by an interrupted run" in resumed.stderr
    card = json.loads((tmp_path / "student" / "pseudorel.json").read_text())
    assert card["steps_done"] > 6 and not partial.exists()
