"""pseudorel rag and adapt under faults: a dead LLM, a malformed claims file, a system of another
corpus, a write-back run repeated on its state, and two runs into one output folder."""

import json
import shutil
from pathlib import Path

import pytest

from pseudorel._io import output_lock
from tests.cli.test_cli import run_cli
from tests.llm import stub_server

CLAIMS = Path(__file__).parents[1] / "fixtures" / "claims"
DEAD = "http://127.0.0.1:9/v1"  # nothing listens on the discard port


@pytest.fixture
def stub():
    server, state, url = stub_server.start()
    yield state, url
    server.shutdown()


@pytest.mark.fault("rag with an LLM server that is not there", "exit 2 at once, naming the LLM; no summary of failures")
def test_rag_with_a_dead_llm_fails_at_once(monkeypatch, capsys, tmp_path):
    args = ["rag", "--dataset", str(CLAIMS), "--llm", DEAD, "--retriever", "bm25", "--llm-timeout", "5"]
    code, out, err = run_cli(monkeypatch, capsys, *args, "--output", str(tmp_path / "out"))
    assert code == 2 and "LLM is not usable" in err and "accuracy" not in out
    assert not (tmp_path / "out" / "summary.json").exists()


@pytest.mark.fault("rag on a claims file with malformed metadata", "exit 2 naming file and line, before any LLM call")
@pytest.mark.parametrize(
    "metadata",
    ['"SUPPORT"', '{"c1": [{"label": "MAYBE"}]}', '{"c1": {"label": "SUPPORT"}}', '{"c1": [{"sentences": [0]}]}'],
)
def test_rag_names_a_malformed_claims_file_before_asking(monkeypatch, capsys, tmp_path, stub, metadata):
    state, url = stub
    data = tmp_path / "claims"
    shutil.copytree(CLAIMS, data)
    lines = (data / "queries.jsonl").read_text().splitlines()
    record = json.loads(lines[1])
    lines[1] = json.dumps({**record, "metadata": "PLACEHOLDER"}).replace('"PLACEHOLDER"', metadata)
    (data / "queries.jsonl").write_text("\n".join(lines) + "\n")
    args = ["rag", "--dataset", str(data), "--llm", url, "--retriever", "bm25", "--output", str(tmp_path / "out")]
    code, _, err = run_cli(monkeypatch, capsys, *args)
    assert code == 2 and "queries.jsonl:2:" in err and "Traceback" not in err
    assert state.requests == []


@pytest.mark.fault("rag --system built on another corpus", "exit 2 naming both, not a KeyError")
def test_rag_refuses_a_system_of_another_corpus(monkeypatch, capsys, tmp_path, stub, system_folder):
    _, url = stub
    args = ["rag", "--dataset", str(CLAIMS), "--llm", url, "--system", str(system_folder)]
    code, _, err = run_cli(monkeypatch, capsys, *args, "--output", str(tmp_path / "out"))
    assert code == 2 and "another corpus" in err and "Traceback" not in err


@pytest.mark.fault("rag --write-back run again on the same state", "resumes: written documents found, no KeyError")
def test_rag_write_back_runs_again_on_its_state(monkeypatch, capsys, tmp_path, stub):
    _, url = stub
    args = ["rag", "--dataset", str(CLAIMS), "--llm", url, "--retriever", "bm25", "--k", "2", "--task", "question"]
    args += ["--write-back", "--state", str(tmp_path / "state")]
    code, _, err = run_cli(monkeypatch, capsys, *args, "--output", str(tmp_path / "first"))
    assert code == 0, err
    code, out, err = run_cli(monkeypatch, capsys, *args, "--output", str(tmp_path / "second"))
    assert code == 0 and "Traceback" not in err and "answers" in out, err


@pytest.mark.fault("two runs into one output folder at once", "the second stops at once, naming the first")
@pytest.mark.parametrize("command", ["adapt", "rag"])
def test_a_second_run_into_a_busy_output_is_refused(monkeypatch, capsys, tmp_path, stub, command):
    _, url = stub
    out = tmp_path / "out"
    args = {
        "adapt": ["adapt", "--dataset", "tiny", "--output", str(out)],
        "rag": ["rag", "--dataset", str(CLAIMS), "--llm", url, "--retriever", "bm25", "--output", str(out)],
    }[command]
    with output_lock(out, "pseudorel test-holder"):
        code, _, err = run_cli(monkeypatch, capsys, *args)
    assert code == 2 and "in use by" in err and "test-holder" in err
    assert sorted(p.name for p in out.iterdir()) == [".pseudorel.lock"]  # nothing of the second run
