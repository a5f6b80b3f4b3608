"""Bad options and output paths: one line naming the option or path, exit 2, before any work."""

import time

import pytest

from tests.cli.test_cli import run_cli

LABEL = ["label", "--dataset", "tiny", "--synthetic", "title", "--output", "{tmp}/l.parquet"]
ADAPT = ["adapt", "--dataset", "tiny", "--output", "{tmp}/a"]
EVALUATE = ["evaluate", "--dataset", "tiny"]
TRAIN = ["train", "--labels", "{tmp}/none.parquet", "--dataset", "tiny", "--output", "{tmp}/t"]
QRELS = ["--qrels", "{tmp}/x"]
SWEEP = ["noise-sweep", "--dataset", "tiny", "--output", "{tmp}/sweep"]

CASES = [
    ([*EVALUATE, "--top-k", "-5"], "--top-k must be at least 1"),
    ([*EVALUATE, "--top-k", "0"], "--top-k must be at least 1"),
    ([*EVALUATE, "--batch-size", "0"], "--batch-size must be at least 1"),
    ([*EVALUATE, "--precision", "fp8"], "--precision must be one of auto, fp32, bf16, onnx-fp32, onnx-int8, openvino"),
    ([*EVALUATE, "--retriever", "dense:/missing/model"], "model '/missing/model' not found"),
    ([*EVALUATE, "--output", "{tmp}/file.txt"], "exists and is not a folder"),
    ([*EVALUATE, "--output", "{tmp}/file.txt/sub"], "cannot write to"),
    ([*LABEL, "--deep", "-3"], "--deep must be at least 0"),
    ([*LABEL, "--select", "best"], "--select must be one of uncertain, random"),
    ([*LABEL, "--judge-scale", "ternary"], "--judge-scale must be one of graded, binary"),
    ([*LABEL, "--synthetic", "titel"], "--synthetic must be one of title, ict, span; got 'titel'"),
    ([*LABEL, "--retrievers", ","], "--retrievers needs at least one retriever"),
    ([*LABEL, "--retrievers", "auto"], "unknown retriever 'auto'"),  # auto is adapt's, not label's
    ([*LABEL, "--ql", "ftp://x"], "--ql: 'ftp://x' is not an http(s) URL"),
    ([*LABEL, "--ql", "http://x/v1", "--ql-budget", "0"], "--ql-budget must be at least 1"),
    ([*ADAPT, "--reranker-loss", "hinge"], "--reranker-loss must be one of listwise, distill, bce"),
    ([*ADAPT, "--teacher-fusion", "max"], "--teacher-fusion must be one of rrf, interpolate"),
    ([*LABEL, "--teacher-fusion", "sum"], "--teacher-fusion must be one of rrf, interpolate"),
    ([*ADAPT, "--retrievers", "auto,bm25"], "unknown retriever 'auto'"),
    ([*LABEL, "--llm-budget", "-5"], "--llm-budget must be at least 0"),
    ([*LABEL, "--judge-words", "0"], "--judge-words must be at least 1"),
    ([*LABEL, "--llm", "htp://host/v1"], "'htp://host/v1' is not an http(s) URL"),
    ([*ADAPT, "--epochs", "nan"], "--epochs must be a finite number above 0, got nan"),
    ([*ADAPT, "--time-budget", "nan"], "--time-budget must be a finite number above 0"),
    ([*ADAPT, "--base-model", "/missing"], "--base-model: model '/missing' not found"),
    ([*ADAPT, "--loss", "label_weakening[gamma=1]"], "loss 'label_weakening' takes no gamma"),
    ([*ADAPT, "--learning-rates", "1e-4,inf"], "--learning-rates must be finite and positive"),
    ([*TRAIN, "--learning-rate", "inf"], "--learning-rate must be a finite number above 0, got inf"),
    (["compare", "{tmp}/a", "{tmp}/b", *QRELS, "--measure", "nDCG@ten"], "'nDCG@ten' is not a measure"),
    (["compare", "{tmp}/a", "{tmp}/b", *QRELS, "--method", "wilcoxon"], "--method must be one of randomization, t"),
    (["search", "--system", "{tmp}", "--query", ""], "--query: an empty query"),
    ([*EVALUATE, "--retriever", "bm25", "--index", "ivf"], "--index and --nprobe choose a dense index"),
    ([*SWEEP, "--ratios", "nan"], "--ratios: each noise ratio must be at least 0 and below 1"),
    ([*SWEEP, "--ratios", "1.5"], "--ratios: each noise ratio must be at least 0 and below 1"),
    ([*SWEEP, "--ratios", "-0.1"], "--ratios: each noise ratio must be at least 0 and below 1"),
    ([*SWEEP, "--ratios", "0,x"], "--ratios must be comma-separated numbers"),
    ([*SWEEP, "--seeds", "a,b"], "--seeds must be comma-separated whole numbers"),
    ([*SWEEP, "--extra-seeds", "x=1"], "--extra-seeds must be comma-separated numbers"),
    ([*SWEEP, "--extra-seeds", "0.5"], "--extra-seeds: '0.5' is not RATIO=SEEDS"),
    ([*SWEEP, "--negatives", "-1"], "--negatives must be at least 0"),
    ([*SWEEP, "--epochs", "0"], "--epochs must be a finite number above 0"),
    ([*SWEEP, "--beta", "nan"], "--beta must be a number from 0 to 1"),
    ([*SWEEP, "--max-seq-length", "0"], "--max-seq-length must be at least 8"),
    ([*SWEEP, "--kind", "gaussian"], "--kind must be one of bm25, dense, random"),
]


@pytest.mark.fault("bad option or output path", "one line naming the option or path, exit 2, before any work")
@pytest.mark.parametrize(("args", "message"), CASES, ids=[" ".join(c[0][-2:]) for c in CASES])
def test_bad_option_is_one_line_before_any_work(monkeypatch, capsys, tmp_path, args, message):
    (tmp_path / "file.txt").write_text("not a folder")
    start = time.perf_counter()
    code, _, err = run_cli(monkeypatch, capsys, *(a.replace("{tmp}", str(tmp_path)) for a in args))
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err and time.perf_counter() - start < 5


@pytest.mark.fault(
    "output on a full disk", "one line naming the folder and 'No space left on device', exit 2, no work done"
)
def test_full_disk_is_reported_before_any_work(monkeypatch, capsys, tmp_path):
    import errno
    import tempfile

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", full)
    code, _, err = run_cli(monkeypatch, capsys, *EVALUATE, "--output", str(tmp_path / "out"))
    assert code == 2 and "cannot write to" in err and "No space left on device" in err
