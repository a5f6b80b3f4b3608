"""A dead, failing, garbage-answering or hanging LLM server is found out at once."""

import time

import pytest

from pseudorel.llm import CachedBackend, LLMError, OpenAIChatBackend, ResponseCache
from pseudorel.teachers.llm_judge import JudgeSettings, LLMJudge
from tests.cli.test_cli import run_cli
from tests.llm import stub_server


@pytest.fixture
def stub():
    servers = []

    def start(mode="grade", delay=0.0):
        server, state, url = stub_server.start(mode, delay)
        servers.append(server)
        return state, url

    yield start
    for server in servers:
        server.shutdown()


@pytest.mark.fault(
    "LLM server answers garbage, then is fixed",
    "garbage is neither cached nor served from the cache; the fixed server's grade is used",
)
def test_garbage_answers_are_not_cached(stub, tmp_path):
    state, url = stub("garbage")
    cache = ResponseCache(tmp_path / "llm.sqlite")
    judge = LLMJudge(CachedBackend(OpenAIChatBackend(url, "stub"), cache), retries=1)
    assert judge.judge("vitamin", "vitamin d").label is None
    assert len(state.requests) == 2 and len(cache) == 0  # its own retry asked the server again
    state.mode = "grade"  # the server is fixed
    assert judge.judge("vitamin", "vitamin d").label is not None and len(cache) == 1


LABEL = ["label", "--dataset", "tiny", "--synthetic", "title", "--retrievers", "bm25", "--llm-budget", "5"]


@pytest.mark.fault(
    "LLM server refuses, returns HTTP 500, answers non-grades or hangs",
    "one check before the stage: one-line error, exit 2 within seconds, no output written",
)
@pytest.mark.parametrize(
    ("mode", "delay", "message"),
    [
        (None, 0.0, "request failed"),  # nothing listening
        ("error", 0.0, "HTTP 500"),
        ("garbage", 0.0, "answer is not a grade"),
        ("grade", 30.0, "timed out"),  # accepts and never answers in time
    ],
)
def test_label_stops_at_once_on_a_broken_server(monkeypatch, capsys, tmp_path, stub, mode, delay, message):
    url = "http://127.0.0.1:9/v1" if mode is None else stub(mode, delay)[1]
    args = [*LABEL, "--llm", url, "--llm-timeout", "1", "--llm-retries", "0", "--output", str(tmp_path / "l.parquet")]
    start = time.perf_counter()
    code, _, err = run_cli(monkeypatch, capsys, *args)
    assert code == 2 and "the LLM judge is not usable" in err and message in err, err
    assert time.perf_counter() - start < 15 and not (tmp_path / "l.parquet").exists()


class DiesAfterFirst:
    """A backend that answers once, then fails every request (a server that died mid-run)."""

    model_id = "dies"

    def __init__(self):
        self.calls = 0

    def chat(self, request):
        self.calls += 1
        if self.calls > 1:
            raise LLMError("connection refused")
        top = [{"token": "2", "logprob": 0.0}]
        return {"choices": [{"message": {"content": "2"}, "logprobs": {"content": [{"top_logprobs": top}]}}]}


@pytest.mark.fault(
    "LLM server dies in the middle of a run",
    "stops after 5 consecutive failures with an error; finished answers stay cached",
)
def test_consecutive_failures_stop_the_run():
    backend = DiesAfterFirst()
    judge = LLMJudge(backend, JudgeSettings(max_consecutive_failures=3), retries=0)
    seen = []
    with pytest.raises(LLMError, match="failed 3 times in a row"):
        for index, judgment in judge.judge_many([("q", "p")] * 50):
            seen.append((index, judgment.label))
    assert seen[0] == (0, pytest.approx(2 / 3)) and backend.calls == 4  # not 50


@pytest.mark.fault("a slow request in flight when --llm-seconds runs out", "not waited for; queued pairs dropped")
def test_time_budget_bounds_a_request_in_flight(stub):
    _, url = stub("grade", delay=5.0)
    judge = LLMJudge(OpenAIChatBackend(url, "stub", timeout=30))
    start = time.perf_counter()
    assert list(judge.judge_many([("a", "b")] * 3, max_seconds=0.5)) == []
    assert time.perf_counter() - start < 2.5


@pytest.mark.fault("Ctrl-C while the LLM server hangs", "exits at once with code 130, not after the timeout")
def test_ctrl_c_during_a_hung_request_exits_at_once(tmp_path, stub):
    import signal
    import subprocess
    import sys

    state, url = stub("grade", delay=60.0)
    args = [*LABEL, "--llm", url, "--llm-timeout", "50", "--output", str(tmp_path / "l.parquet")]
    proc = subprocess.Popen([sys.executable, "-m", "pseudorel", *args], stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not state.requests and time.time() < deadline:  # the check request is in flight, hanging
        time.sleep(0.05)
    start = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "interrupted" in err and time.perf_counter() - start < 5
