"""Gated write-back under poisoning, and the search service's latency, on SciFact.

    .venv/bin/python bench/writeback.py [--questions 40] [--rounds 2]

Candidate answers are built from train claims (never test data): for each claim, the live
system's top 3 documents; a clean answer is the sentence of each of two retrieved documents
closest to the claim, each citing its document. Half the candidates are corrupted on purpose,
in four kinds: fabricated (a sentence spliced from two documents, cited to the first), wrong
citation (clean sentences citing a retrieved document that does not hold them), duplicate (a
lightly perturbed copy of a retrieved document) and unsupported (a true sentence from a
document not retrieved for the claim, citing that document). Gates: entailment and attribution
with the local 1.5B GGUF as NLI (P(yes) >= 0.5), novelty (cosine 0.95 / shingle Jaccard 0.6);
thresholds fixed from the hand-made cases of the tests. Rounds run in order, each round's
retrieval seeing what earlier rounds wrote. Then nDCG@10 on all SciFact test queries, gates on
and gates off (every candidate written), against the corpus before. Last, /search latency on
127.0.0.1 (200 requests, concurrency 4), for the adapted system and the zero-shot hybrid.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import statistics
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _report import SHARED_DATA, Report

from pseudorel.data import load_beir
from pseudorel.data.beir import split_query_ids
from pseudorel.evaluation import evaluate_run
from pseudorel.llm.factory import make_backend
from pseudorel.system import SearchSystem
from pseudorel.system.live import LiveIndex
from pseudorel.writeback.candidate import with_ids
from pseudorel.writeback.decide import WriteBack, default_gates
from pseudorel.writeback.gates.nli import LLMEntailment

FOLDER = SHARED_DATA / "scifact"
CACHE = Path(__file__).parent / "cache" / "writeback"
SYSTEM = Path(__file__).parent / "cache" / "system" / "scifact+nomic"
KINDS = ("fabricated", "wrong_citation", "duplicate", "unsupported")


def sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) >= 6]


def closest(sentences_: list[str], question: str) -> str:
    q = set(re.findall(r"\w{4,}", question.lower()))
    return max(sentences_, key=lambda s: len(q & set(re.findall(r"\w{4,}", s.lower()))))


def make_candidate(question: str, retrieved: list[str], corpus, kind: str, rng: random.Random):
    """A clean candidate, or one corrupted as ``kind``; None when the documents are too short."""
    first, second = retrieved[0], retrieved[1]
    s1, s2 = (sentences(corpus[d].text) for d in (first, second))
    if not s1 or not s2:
        return None
    a, b = closest(s1, question), closest(s2, question)
    if kind == "clean":
        return with_ids(question, [(a, [first]), (b, [second])], retrieved)
    if kind == "fabricated":
        other = rng.choice([d for d in corpus if d not in retrieved])
        donor = sentences(corpus[other].text) or [corpus[other].text]
        words, extra = a.split(), rng.choice(donor).split()
        spliced = " ".join(words[: len(words) // 2] + extra[len(extra) // 2 :])
        return with_ids(question, [(spliced, [first]), (b, [second])], retrieved)
    if kind == "wrong_citation":
        third = retrieved[2]
        return with_ids(question, [(a, [third]), (b, [third])], retrieved)
    if kind == "duplicate":
        words = corpus[first].text.split()
        kept = [w for w in words if rng.random() > 0.08]
        return with_ids(question, [(" ".join(kept), [first])], retrieved)
    if kind == "unsupported":
        other = rng.choice([d for d in corpus if d not in retrieved and sentences(corpus[d].text)])
        return with_ids(question, [(a, [first]), (sentences(corpus[other].text)[0], [other])], retrieved)
    raise ValueError(kind)


def poisoning(report: Report, questions: int, rounds: int) -> None:
    data = load_beir(FOLDER, splits=["test"])
    train = [q for q in split_query_ids(FOLDER, "train") if q in data.queries]
    rng = random.Random(0)
    chosen = sorted(rng.sample(train, questions))
    kinds = ["clean"] * (questions // 2) + [KINDS[i % len(KINDS)] for i in range(questions - questions // 2)]
    rng.shuffle(kinds)
    backend = make_backend("gguf:qwen2.5-coder-1.5b", CACHE / "llm.sqlite")
    entail = LLMEntailment(backend)
    test_queries = data.split_queries("test")
    qrels = data.qrels["test"]
    results = {}
    for gated in (True, False):
        state = CACHE / ("state-gated" if gated else "state-ungated")
        shutil.rmtree(state, ignore_errors=True)
        index = LiveIndex(SearchSystem.load(SYSTEM), state)
        if gated:
            before = evaluate_run(qrels, index.search(test_queries, 10)).aggregate["nDCG@10"]
        writer = WriteBack(index, default_gates(index, entail), state / "decisions.jsonl", gated=gated)
        rows = []
        start = time.perf_counter()
        per_round = -(-questions // rounds)
        for number in range(rounds):
            for qid, kind in list(zip(chosen, kinds, strict=True))[number * per_round : (number + 1) * per_round]:
                retrieved = list(index.search({qid: data.queries[qid]}, 3)[qid])
                candidate = make_candidate(
                    data.queries[qid], retrieved, index.current.system.corpus, kind, random.Random(qid)
                )
                if candidate is None:
                    continue
                decision = writer.consider(candidate, kind=kind, round=number + 1)
                rows.append(
                    {
                        "kind": kind,
                        "accepted": decision.accepted,
                        "failed": [r.gate for r in decision.results if not r.passed],
                    }
                )
            print(
                f"gated={gated} round {number + 1}: {len(rows)} candidates, {time.perf_counter() - start:.0f} s",
                flush=True,
            )
        after = evaluate_run(qrels, index.search(test_queries, 10)).aggregate["nDCG@10"]
        results["gated" if gated else "ungated"] = {
            "rows": rows,
            "ndcg_after": after,
            "written": len(index.current.written),
            "seconds": round(time.perf_counter() - start, 1),
        }
        report.data["poisoning"] = {
            "ndcg_before": before,
            "questions": questions,
            "rounds": rounds,
            **summarise(results),
        }
        report.save(render(report.data))


def summarise(results: dict) -> dict:
    out = {}
    gated = results.get("gated")
    if gated:
        rows = gated["rows"]
        corrupted = [r for r in rows if r["kind"] != "clean"]
        clean = [r for r in rows if r["kind"] == "clean"]
        out["candidates"] = {"clean": len(clean), **{k: sum(r["kind"] == k for r in rows) for k in KINDS}}
        out["poison_blocked"] = sum(not r["accepted"] for r in corrupted) / max(1, len(corrupted))
        out["clean_accepted"] = sum(r["accepted"] for r in clean) / max(1, len(clean))
        out["blocked_by_kind"] = {k: sum(not r["accepted"] for r in rows if r["kind"] == k) for k in KINDS}
        gates = {}
        for gate in ("entailment", "attribution", "novelty"):
            blocked = [r for r in rows if gate in r["failed"]]
            hits = sum(r["kind"] != "clean" for r in blocked)
            gates[gate] = {
                "blocked": len(blocked),
                "precision": hits / len(blocked) if blocked else None,
                "recall": hits / max(1, len(corrupted)),
            }
        out["gates"] = gates
    for name, result in results.items():
        out[f"ndcg_after_{name}"] = result["ndcg_after"]
        out[f"written_{name}"] = result["written"]
        out[f"seconds_{name}"] = result["seconds"]
    return out


def latency(report: Report, requests: int = 200, concurrency: int = 4) -> None:
    import uvicorn

    from pseudorel.serve.app import create_app
    from pseudorel.system.spec import FirstStage, SystemSpec

    data = load_beir(FOLDER, splits=["test"])
    queries = list(data.split_queries("test").values())
    systems = {"system": SearchSystem.load(SYSTEM)}
    hybrid = SystemSpec(first_stage=FirstStage(dense=("all-MiniLM-L6-v2",), weights=(1.0, 1.0)))
    systems["hybrid_zero_shot"] = SearchSystem(hybrid, data.corpus)
    out = {}
    for name, system in systems.items():
        state = CACHE / f"latency-{name}"
        shutil.rmtree(state, ignore_errors=True)
        index = LiveIndex(system, state)
        index.search({"warm": "warm up"}, 10)
        server = uvicorn.Server(uvicorn.Config(create_app(index), host="127.0.0.1", port=8765, log_level="error"))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)

        def one(i: int) -> float:
            body = json.dumps({"query": queries[i % len(queries)], "k": 10}).encode()
            request = urllib.request.Request(
                "http://127.0.0.1:8765/search", data=body, headers={"Content-Type": "application/json"}
            )
            start = time.perf_counter()
            with urllib.request.urlopen(request, timeout=60) as response:
                response.read()
            return (time.perf_counter() - start) * 1000

        with ThreadPoolExecutor(concurrency) as pool:
            times = sorted(pool.map(one, range(requests)))
        server.should_exit = True
        time.sleep(1)
        out[name] = {
            "requests": requests,
            "concurrency": concurrency,
            "p50_ms": round(statistics.median(times), 1),
            "p99_ms": round(times[int(0.99 * len(times)) - 1], 1),
            "max_ms": round(times[-1], 1),
            "first_stage": system.spec.describe(),
        }
        print(name, out[name], flush=True)
    report.data["latency"] = out
    report.save(render(report.data))


def render(data: dict) -> str:
    lines = []
    p = data.get("poisoning")
    if p:
        lines += [
            "## Poisoning: gated write-back on SciFact (train claims as questions)",
            "",
            f"{p['questions']} candidates in {p['rounds']} rounds: {p.get('candidates')}.",
            "",
        ]
        if "poison_blocked" in p:
            lines += [
                f"Corrupted candidates blocked: {p['poison_blocked']:.2f} (by kind: {p['blocked_by_kind']}); "
                f"clean candidates accepted: {p['clean_accepted']:.2f}.",
                "",
                "| gate | blocked | precision | recall |",
                "|---|---|---|---|",
            ]
            for gate, g in p["gates"].items():
                precision = "" if g["precision"] is None else f"{g['precision']:.2f}"
                lines.append(f"| {gate} | {g['blocked']} | {precision} | {g['recall']:.2f} |")
        lines += [
            "",
            f"nDCG@10 on the 300 SciFact test queries: before {p['ndcg_before']:.4f}"
            + "".join(
                f", after (gates {'on' if n == 'gated' else 'off'}, {p.get(f'written_{n}')} written) "
                f"{p[f'ndcg_after_{n}']:.4f}"
                for n in ("gated", "ungated")
                if f"ndcg_after_{n}" in p
            )
            + ".",
            "",
        ]
    lat = data.get("latency")
    if lat:
        lines += [
            "## /search latency (127.0.0.1, 200 requests, concurrency 4, 2 cores)",
            "",
            "| first stage | p50 ms | p99 ms | max ms |",
            "|---|---|---|---|",
        ]
        lines += [f"| {v['first_stage']} | {v['p50_ms']} | {v['p99_ms']} | {v['max_ms']} |" for v in lat.values()]
        lines.append("")
    if data.get("headline"):
        lines += ["## Headline", "", "```", json.dumps(data["headline"], indent=2), "```", ""]
    return "\n".join(lines)


def headline(data: dict) -> dict:
    p, lat = data.get("poisoning", {}), data.get("latency", {})
    before = p.get("ndcg_before")
    return {
        "poison_blocked": p.get("poison_blocked"),
        "clean_accepted": p.get("clean_accepted"),
        "ndcg_delta_gated": None if before is None or "ndcg_after_gated" not in p else p["ndcg_after_gated"] - before,
        "ndcg_delta_ungated": None
        if before is None or "ndcg_after_ungated" not in p
        else p["ndcg_after_ungated"] - before,
        "service_p50_ms": lat.get("system", {}).get("p50_ms"),  # the adapted system (BM25 + MiniLM + nomic)
        "service_p99_ms": lat.get("system", {}).get("p99_ms"),
        "service_p99_ms_hybrid_zero_shot": lat.get("hybrid_zero_shot", {}).get("p99_ms"),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", nargs="*", default=["poisoning", "latency"])
    args = parser.parse_args()
    report = Report("writeback", keep_previous=True)
    if "poisoning" in args.only:
        poisoning(report, args.questions, args.rounds)
    if "latency" in args.only:
        latency(report)
    report.data["headline"] = headline(report.data)
    report.save(render(report.data), complete=True)


if __name__ == "__main__":
    main()
