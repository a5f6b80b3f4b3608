"""A stub OpenAI-compatible server for tests, on localhost: its chat endpoint grades by word
overlap; its completions endpoint echoes prompt logprobs (query likelihood by word overlap).

Run as a script (``python stub_server.py PORTFILE``) or start in-process with ``start()``.
Mode ``grade`` answers with top_logprobs over "0".."3"; ``text`` answers a bare digit with
no logprobs; ``garbage`` answers a sentence; ``error`` returns HTTP 500.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def overlap_grade(user: str) -> float:
    lines = [line.split(":", 1)[1] for line in user.splitlines() if ":" in line][:2]
    if len(lines) < 2:
        return 0.0
    q, p = (set(re.findall(r"[a-z]{3,}", part.lower())) for part in lines)
    return 3.0 * len(q & p) / max(len(q), 1)


def echo_logprobs(prompt: str) -> dict:
    """A completions answer echoing ``prompt`` word by word: a word that occurs in the prompt's
    ``Passage:`` line gets log-probability -1, any other -5 (query likelihood by word overlap)."""
    passage = next((line for line in prompt.splitlines() if line.startswith("Passage:")), "")
    known = set(re.findall(r"[a-z]{3,}", passage.lower()))
    tokens = [m for m in re.finditer(r"\s*\S+", prompt)]
    values = [None] + [-1.0 if m.group().strip().lower() in known else -5.0 for m in tokens[1:]]
    return {
        "choices": [
            {
                "text": prompt,
                "logprobs": {
                    "tokens": [m.group() for m in tokens],
                    "token_logprobs": values,
                    "text_offset": [m.start() for m in tokens],
                },
            }
        ]
    }


def verdict_answer(system: str, user: str) -> dict:
    """A fact-checker: closed book, it is sure (p 0.95) that a claim containing "known" is true and
    unsure otherwise; with numbered documents, the first one sharing over half the claim's words decides
    (false when it contains "not"), cited as [n]; no such document: unknown."""
    claim = next((line.split(":", 1)[1] for line in user.splitlines() if line.startswith("Claim:")), "")
    words = set(re.findall(r"[a-z]{3,}", claim.lower()))
    verdict, p, cite = "unknown", 0.5, ""
    if "Documents:" not in user:
        if "known" in words:
            verdict, p = "true", 0.95
    else:
        for line in user.splitlines():
            match = re.match(r"\[(\d+)\] (.*)", line)
            if not match:
                continue
            doc = set(re.findall(r"[a-z]{3,}", match.group(2).lower()))
            if words and len(words & doc) / len(words) > 0.5:
                verdict, p, cite = ("false" if "not" in doc else "true"), 0.9, f" [{match.group(1)}]"
                break
    others = [v for v in ("true", "false", "unknown") if v != verdict]
    top = [{"token": verdict, "logprob": math.log(p)}] + [
        {"token": v, "logprob": math.log((1 - p) / 2)} for v in others
    ]
    return {
        "choices": [
            {
                "message": {"role": "assistant", "content": verdict + cite},
                "logprobs": {"content": [{"token": verdict, "logprob": math.log(p), "top_logprobs": top}]},
            }
        ]
    }


def entailment_answer(user: str) -> dict:
    """yes (p 0.9) when 80% of the statement's words are in the passage, else no (p 0.9)."""
    fields = dict(line.split(": ", 1) for line in user.splitlines() if ": " in line)
    passage = set(re.findall(r"[a-z]{3,}", fields.get("Passage", "").lower()))
    statement = set(re.findall(r"[a-z]{3,}", fields.get("Statement", "").lower()))
    yes = bool(statement) and len(statement & passage) / len(statement) >= 0.8
    top = [
        {"token": "yes", "logprob": math.log(0.9 if yes else 0.1)},
        {"token": "no", "logprob": math.log(0.1 if yes else 0.9)},
    ]
    word = "yes" if yes else "no"
    return {
        "choices": [
            {
                "message": {"role": "assistant", "content": word},
                "logprobs": {
                    "content": [{"token": word, "logprob": top[0 if yes else 1]["logprob"], "top_logprobs": top}]
                },
            }
        ]
    }


def question_answer(user: str) -> dict:
    """An open answer: the first sentence of documents [1] and [2], each cited; with two
    documents each in its words reordered (a writer that combines sources rewords them), with
    one the sentence as it is (a copy)."""
    found = [m for m in (re.match(r"\[(\d+)\] (.*)", line) for line in user.splitlines()) if m]
    found = [m for m in found if int(m.group(1)) <= 2]
    sentences = []
    for match in found:
        words = match.group(2).split(".")[0].split()
        text = " ".join(reversed(words) if len(found) > 1 else words)
        sentences.append(f"{text}. [{match.group(1)}]")
    return {"choices": [{"message": {"role": "assistant", "content": " ".join(sentences) or "I do not know."}}]}


class StubState:
    def __init__(self, mode: str = "grade", delay: float = 0.0):
        self.mode = mode
        self.delay = delay
        self.requests: list[dict] = []
        self.lock = threading.Lock()


def make_handler(state: StubState):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with state.lock:
                state.requests.append(body)
            time.sleep(state.delay)
            if state.mode == "error":
                self.send_response(500)
                self.end_headers()
                self.wfile.write(b"boom")
                return
            if not self.path.endswith("/chat/completions"):
                return self._send(echo_logprobs(body["prompt"]) if body.get("echo") else {"choices": [{"text": "x"}]})
            user = body["messages"][-1]["content"]
            grade = overlap_grade(user)
            if body["messages"][0]["content"].startswith("Answer the question using only"):
                answer = question_answer(user)
            elif body["messages"][0]["content"].startswith("You check facts."):  # NLI: yes when the words are there
                answer = entailment_answer(user)
            elif (
                "fact-checker. Read the numbered" in body["messages"][0]["content"]
                or "Say whether the claim" in body["messages"][0]["content"]
            ):
                answer = verdict_answer(body["messages"][0]["content"], user)
            elif "Reply with the" in body["messages"][0]["content"]:  # query generation: first words, by seed
                words = user.split(":", 1)[1].split()
                k = int(body.get("seed", 0)) % 2  # seeds 0 and 2 give the same query: a duplicate
                text = " ".join(words[k : k + 4])
                answer = {"choices": [{"message": {"role": "assistant", "content": text}}]}
            elif state.mode == "garbage":
                answer = {"choices": [{"message": {"role": "assistant", "content": "I think so"}}]}
            elif state.mode == "text":
                answer = {"choices": [{"message": {"role": "assistant", "content": str(round(grade))}}]}
            else:
                weights = [math.exp(-((g - grade) ** 2)) for g in range(4)]
                total = sum(weights)
                top = [{"token": str(g), "logprob": math.log(w / total)} for g, w in enumerate(weights)]
                top.append({"token": "The", "logprob": -9.0})
                best = max(range(4), key=lambda g: weights[g])
                answer = {
                    "choices": [
                        {
                            "message": {"role": "assistant", "content": str(best)},
                            "logprobs": {"content": [{"token": str(best), "top_logprobs": top}]},
                        }
                    ]
                }
            self._send(answer)

        def _send(self, answer: dict) -> None:
            data = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            # the client may have given up first (timeout and kill tests do that on purpose)
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(data)

        def log_message(self, *args):
            pass

    return Handler


def start(mode: str = "grade", delay: float = 0.0) -> tuple[ThreadingHTTPServer, StubState, str]:
    state = StubState(mode, delay)
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, state, f"http://127.0.0.1:{server.server_address[1]}/v1"


if __name__ == "__main__":
    server, state, url = start(sys.argv[2] if len(sys.argv) > 2 else "grade")
    with open(sys.argv[1], "w") as f:
        f.write(url)
    threading.Event().wait()
