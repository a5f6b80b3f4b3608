"""The service and the written-back log under faults: two writers on one state, hand-damaged or
torn logs, a log deleted while serving, ids a client took, requests that are not valid JSON
values or Unicode, and writes that need a token."""

import json
import threading
import time
import urllib.request

import pytest

from pseudorel.errors import InputError, UsageError
from pseudorel.system.written_log import WrittenLog, live_documents
from tests.cli.test_cli import run_cli
from tests.serve.test_service import call, free_port

pytest.importorskip("fastapi", reason="the serve extra: pip install 'pseudorel[serve]' (scripts/setup_test.sh does)")

TOKEN = "a-token-of-sixteen-or-more"


def live_index(tiny_dataset_path, state):
    from pseudorel.system.live import build_live_index

    return build_live_index(None, str(tiny_dataset_path), "bm25", state)


@pytest.fixture
def served(tmp_path, tiny_dataset_path):
    """(token or None) -> base URL of a service with writes on, over ``tmp_path/state``."""
    import uvicorn

    from pseudorel.serve.app import create_app

    servers = []

    def start(token=None):
        index = live_index(tiny_dataset_path, tmp_path / "state")
        port = free_port()
        app = create_app(index, True, 4096, token=token)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical"))
        threading.Thread(target=server.run, daemon=True).start()
        deadline = time.time() + 30
        while not server.started and time.time() < deadline:
            time.sleep(0.05)
        servers.append(server)
        return f"http://127.0.0.1:{port}"

    yield start
    for server in servers:
        server.should_exit = True


@pytest.mark.fault("two services on one state write at once", "each write gets its own id; none is lost")
def test_two_writers_on_one_state_never_share_an_id(tmp_path, tiny_dataset_path):
    first = live_index(tiny_dataset_path, tmp_path / "state")
    second = live_index(tiny_dataset_path, tmp_path / "state")  # its snapshot does not know first's writes
    a = first.add("", "written by the first service", {})
    b = second.add("", "written by the second service", {})
    assert a["id"] != b["id"]

    def burst(index, n, out):
        out.extend(index.add("", f"note {n}-{i} about zinc", {})["id"] for i in range(8))

    ids: list[str] = []
    threads = [threading.Thread(target=burst, args=(index, n, ids)) for n, index in enumerate([first, second] * 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    live = live_documents(WrittenLog(tmp_path / "state").records())
    assert len(ids) == len(set(ids)) == 32 and set(ids) | {a["id"], b["id"]} == set(live)


@pytest.mark.fault("an id-less write after a client took the next id", "the next free id, not 409 for ever")
def test_id_allocation_skips_ids_clients_took(tmp_path, tiny_dataset_path):
    index = live_index(tiny_dataset_path, tmp_path / "state")
    assert index.add("", "first", {}, "2")["id"] == "wb:2"
    assert [index.add("", f"more {i}", {})["id"] for i in range(2)] == ["wb:3", "wb:4"]
    with pytest.raises(UsageError, match="exists"):
        index.add("", "again", {}, "wb:3")
    index.remove("wb:3")
    with pytest.raises(UsageError, match="exists"):  # a removed document's id stays its own
        index.add("", "again", {}, "wb:3")


@pytest.mark.fault("a log whose last record is complete but lacks its newline", "kept; readers never change the file")
def test_complete_last_record_without_newline_is_kept(tmp_path, monkeypatch, capsys):
    log = WrittenLog(tmp_path / "state")
    log.append({"op": "add", "id": "wb:1", "text": "first"})
    log.append({"op": "add", "id": "wb:2", "text": "second"})
    before = log.path.read_bytes()[:-1]  # truncate -s -1
    log.path.write_bytes(before)
    code, out, _ = run_cli(monkeypatch, capsys, "corpus", "list-written", "--state", str(tmp_path / "state"))
    assert code == 0 and "wb:1" in out and "wb:2" in out
    assert log.path.read_bytes() == before  # a read-only command wrote nothing
    assert log.append({"op": "add", "id": "wb:3", "text": "third"})["seq"] == 3
    assert [r["id"] for r in log.records()] == ["wb:1", "wb:2", "wb:3"]


def test_torn_last_record_is_skipped_by_readers_and_cut_by_the_next_writer(tmp_path):
    log = WrittenLog(tmp_path)
    log.append({"op": "add", "id": "wb:1", "text": "first"})
    with open(log.path, "ab") as f:
        f.write(b'{"seq": 2, "op": "add", "id": "wb:2", "te')  # what a kill mid-write leaves
    size = log.path.stat().st_size
    assert [r["id"] for r in log.records()] == ["wb:1"] and log.path.stat().st_size == size
    assert log.append({"op": "add", "id": "wb:2", "text": "x"})["seq"] == 2
    assert [r["id"] for r in log.records()] == ["wb:1", "wb:2"]


@pytest.mark.fault("a hand-damaged written.jsonl", "one line naming the file and line, in serve and list-written")
@pytest.mark.parametrize(
    "line", [b"garbage", b'{"op": "add", "text": "no id"}', b"[1, 2]", b'{"op": "add", "id": "x", "text": 3}']
)
def test_damaged_log_is_named_not_a_traceback(tmp_path, tiny_dataset_path, monkeypatch, capsys, line):
    log = WrittenLog(tmp_path / "state")
    log.append({"op": "add", "id": "wb:1", "text": "first"})
    with open(log.path, "ab") as f:
        f.write(line + b"\n")
    code, _, err = run_cli(monkeypatch, capsys, "corpus", "list-written", "--state", str(tmp_path / "state"))
    assert code == 2 and "written.jsonl:2:" in err and "Traceback" not in err
    with pytest.raises(InputError, match=r"written.jsonl:2:"):
        live_index(tiny_dataset_path, tmp_path / "state")


@pytest.mark.fault("a written document whose provenance question is a number", "422; list-written copes with old logs")
def test_provenance_must_be_plain_json_with_a_text_question(served, tmp_path, monkeypatch, capsys):
    url = served()
    for provenance in ({"question": 7}, {"score": float("nan")}):
        status, body = call(
            f"{url}/documents", "POST", raw=json.dumps({"text": "x", "provenance": provenance}).encode()
        )
        assert status == 422, body
    log = WrittenLog(tmp_path / "state")  # a log written before the check
    log.append({"op": "add", "id": "wb:old", "text": "old", "provenance": {"question": 7}})
    code, out, _ = run_cli(monkeypatch, capsys, "corpus", "list-written", "--state", str(tmp_path / "state"))
    assert code == 0 and "wb:old" in out and "'7'" in out


@pytest.mark.fault("infinite, NaN or non-Unicode values in a request", "422 with a message, never a 500")
@pytest.mark.parametrize(
    "path,raw",
    [
        ("search", b'{"query": "vitamin", "k": Infinity}'),
        ("search", b'{"query": "vitamin", "k": NaN}'),
        ("search", b'{"query": "\\ud800"}'),
        ("search", b'{"query": "   "}'),
        ("documents", b'{"text": "\\ud800 text"}'),
        ("documents", b'{"text": "fine", "title": "\\udfff"}'),
        ("documents", b'{"text": "fine", "provenance": {"question": "\\ud800"}}'),
        ("documents", b'{"text": "  \\n "}'),
        ("answers", b'{"question": "q", "answer": "\\ud800", "retrieved": ["d1"]}'),
    ],
)
def test_values_json_or_unicode_cannot_carry_get_422(served, path, raw):
    status, body = call(f"{served()}/{path}", "POST", raw=raw)
    assert status == 422 and isinstance(body, dict) and body["detail"], body


@pytest.mark.fault("the written log deleted while serving", "every endpoint answers; the next write recreates it")
def test_log_deleted_while_serving(served, tmp_path):
    url = served()
    assert call(f"{url}/documents", "POST", {"text": "a note about zinc"})[0] == 201
    (tmp_path / "state" / "written.jsonl").unlink()
    status, health = call(f"{url}/health")
    assert status == 200 and health["written"] == 0
    assert call(f"{url}/search", "POST", {"query": "zinc"})[0] == 200
    assert call(f"{url}/documents", "POST", {"text": "another note about zinc"})[0] == 201


@pytest.mark.fault("writes with a token set but not sent, or sent wrong", "401; reads need no token")
def test_writes_need_the_token_when_one_is_set(served):
    url = served(TOKEN)
    assert call(f"{url}/documents", "POST", {"text": "no token"})[0] == 401
    request = urllib.request.Request(
        f"{url}/documents",
        data=json.dumps({"text": "with the token"}).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 201
    assert call(f"{url}/documents/wb:1", "DELETE")[0] == 401
    assert call(f"{url}/search", "POST", {"query": "token"})[0] == 200


@pytest.mark.fault("serve with writes on a non-loopback address and no token, or a bad port", "refused up front")
@pytest.mark.parametrize(
    "args,message",
    [
        (["--host", "0.0.0.0", "--allow-writes"], "give --token"),
        (["--port", "70000"], "at most 65535"),
        (["--token", "short"], "16 characters"),
    ],
)
def test_serve_refuses_unsafe_or_impossible_settings(monkeypatch, capsys, tiny_dataset_path, tmp_path, args, message):
    monkeypatch.delenv("PSEUDOREL_SERVE_TOKEN", raising=False)
    base = ["serve", "--dataset", str(tiny_dataset_path), "--retriever", "bm25", "--state", str(tmp_path / "s")]
    code, _, err = run_cli(monkeypatch, capsys, *base, *args)
    assert code == 2 and message in err
