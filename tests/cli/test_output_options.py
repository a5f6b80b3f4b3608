"""--quiet, --log-file, and the student reranker's load report turned into one plain line."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd


def _pseudorel(*args, cwd) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "pseudorel", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd)


def test_quiet_log_file_and_plain_errors(tmp_path, tiny_model_path):
    labels = tmp_path / "labels.parquet"
    label = ("label", "--dataset", "tiny", "--synthetic", "title,ict", "--retrievers", "bm25", "--output", labels)
    made = _pseudorel(*label, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    train = ("train", "--dataset", "tiny", "--student", "reranker", "--base-model", tiny_model_path, "--epochs", "1")

    loud = _pseudorel(*train, "--labels", labels, "--output", tmp_path / "a", cwd=tmp_path)
    assert loud.returncode == 0, loud.stderr
    assert "new one-logit head" in loud.stderr and "MISSING" not in loud.stderr + loud.stdout

    log = tmp_path / "run.log"
    quiet = _pseudorel(
        "--quiet", "--log-file", log, *train, "--labels", labels, "--output", tmp_path / "b", cwd=tmp_path
    )
    assert quiet.returncode == 0, quiet.stderr
    assert "new one-logit head" not in quiet.stderr and "it/s" not in quiet.stderr  # no log lines, no bars
    assert "INFO reranker:" in log.read_text()

    # labels that give the student nothing to learn: one plain line, no traceback
    empty = tmp_path / "no-positives.parquet"
    pd.read_parquet(labels).assign(label=0.0).to_parquet(empty)
    failed = _pseudorel(*train, "--labels", empty, "--output", tmp_path / "c", cwd=tmp_path)
    assert failed.returncode == 2 and "Traceback" not in failed.stderr
    assert "no query has a confident positive" in failed.stderr
