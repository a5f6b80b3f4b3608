"""Each write-back gate on hand-made cases, the LLM as NLI against the stub server, and the
write-back loop on a live index."""

import json
import re

import pytest

from pseudorel.data.types import Document
from pseudorel.writeback.candidate import from_answer, with_ids
from pseudorel.writeback.gates.attribution import AttributionGate
from pseudorel.writeback.gates.entailment import EntailmentGate
from pseudorel.writeback.gates.nli import LLMEntailment
from pseudorel.writeback.gates.novelty import MinHashIndex, NoveltyGate

CORPUS = {
    "d1": Document("Vitamin D", "Vitamin D supplements strengthen bones in older adults."),
    "d2": Document("Coffee", "Coffee drinking lowers the risk of liver disease in large cohorts."),
    "d3": Document("Salt", "High salt intake raises blood pressure."),
}


def words_entail(premise: str, hypothesis: str) -> float:
    """A hand-made NLI: 1 when 80% of the hypothesis's words are in the premise."""
    p, h = (set(re.findall(r"[a-z]{3,}", t.lower())) for t in (premise, hypothesis))
    return float(bool(h) and len(h & p) / len(h) >= 0.8)


def test_answer_sentences_and_their_citations():
    c = from_answer("q", "Vitamin D strengthens bones [1]. Coffee lowers liver risk. [2, 3]", ["d1", "d2", "d3"])
    assert [s.text for s in c.sentences] == ["Vitamin D strengthens bones.", "Coffee lowers liver risk."]
    assert [s.cited for s in c.sentences] == [("d1",), ("d2", "d3")]
    assert c.text == "Vitamin D strengthens bones. Coffee lowers liver risk."


def test_entailment_gate():
    gate = EntailmentGate(words_entail)
    entailed = with_ids("q", [("Vitamin D supplements strengthen bones.", ["d1"])], ["d1", "d2"])
    invented = with_ids("q", [("Vitamin D cures migraine headaches.", ["d1"])], ["d1", "d2"])
    assert gate.check(entailed, CORPUS).passed
    result = gate.check(invented, CORPUS)
    assert not result.passed and "sentence 1 not entailed" in result.reason and result.score == 0.0


def test_attribution_gate():
    gate = AttributionGate(words_entail)
    good = with_ids("q", [("Coffee drinking lowers the risk of liver disease.", ["d2"])], ["d1", "d2"])
    not_retrieved = with_ids("q", [("High salt intake raises blood pressure.", ["d3"])], ["d1", "d2"])
    wrong_source = with_ids("q", [("Coffee drinking lowers the risk of liver disease.", ["d1"])], ["d1", "d2"])
    unknown = with_ids("q", [("Coffee drinking lowers liver disease.", ["d9"])], ["d9"])
    uncited = with_ids("q", [("Coffee drinking lowers the risk of liver disease.", [])], ["d2"])
    assert gate.check(good, CORPUS).passed
    assert "not retrieved" in gate.check(not_retrieved, CORPUS).reason
    assert "do not support" in gate.check(wrong_source, CORPUS).reason
    assert "unknown" in gate.check(unknown, CORPUS).reason
    assert "cite nothing" in gate.check(uncited, CORPUS).reason


def test_novelty_gate():
    gate = NoveltyGate(MinHashIndex(CORPUS), nearest_cosine=lambda text: ("d1", 0.97 if "bones" in text else 0.3))
    duplicate = with_ids("q", [("Coffee drinking lowers the risk of liver disease in large cohorts.", ["d2"])], ["d2"])
    novel = with_ids("q", [("Two cohorts link coffee with healthier livers.", ["d2"])], ["d2"])
    close_embedding = with_ids("q", [("Supplements help bones of the elderly.", ["d1"])], ["d1"])
    result = gate.check(duplicate, CORPUS)
    assert not result.passed and "d2" in result.reason and "Jaccard" in result.reason
    assert gate.check(novel, CORPUS).passed
    assert "cosine" in gate.check(close_embedding, CORPUS).reason


@pytest.mark.fault("an answer stitched from two documents' sentences copied verbatim", "novelty fails per sentence")
def test_novelty_holds_per_sentence():
    corpus = {
        "a": Document("", "Zinc lozenges shorten the common cold by about two days in adults. " + "Other text. " * 20),
        "b": Document("", "Regular walking lowers resting blood pressure in older adults. " + "More text here. " * 20),
    }
    gate = NoveltyGate(MinHashIndex(corpus))
    stitched = with_ids(
        "q",
        [
            ("Zinc lozenges shorten the common cold by about two days in adults.", ["a"]),
            ("Regular walking lowers resting blood pressure in older adults.", ["b"]),
        ],
        ["a", "b"],
    )
    result = gate.check(stitched, corpus)
    assert not result.passed and "sentence 1 copies a" in result.reason
    own_words = with_ids(
        "q",
        [
            ("Colds end about two days sooner for adults taking zinc lozenges.", ["a"]),
            ("Older adults who walk regularly see lower resting blood pressure.", ["b"]),
        ],
        ["a", "b"],
    )
    assert gate.check(own_words, corpus).passed


def test_llm_as_nli_against_the_stub_server():
    from tests.llm import stub_server

    server, _, url = stub_server.start()
    try:
        from pseudorel.llm.openai_http import OpenAIChatBackend

        entail = LLMEntailment(OpenAIChatBackend(url, "stub"))
        assert entail(CORPUS["d3"].full_text, "Salt intake raises blood pressure.") == pytest.approx(0.9)
        assert entail(CORPUS["d3"].full_text, "Sugar causes diabetes.") == pytest.approx(0.1)
    finally:
        server.shutdown()


def test_write_back_accepts_only_what_passes_and_logs_every_decision(tmp_path, tiny_dataset_path):
    from pseudorel.system.live import build_live_index
    from pseudorel.writeback.decide import WriteBack, default_gates

    index = build_live_index(None, str(tiny_dataset_path), "bm25", tmp_path / "state")
    corpus = index.current.system.corpus
    first = next(iter(corpus))
    writer = WriteBack(index, default_gates(index, words_entail), tmp_path / "decisions.jsonl")
    sentence = corpus[first].text.split(".")[0] + "."
    clean = with_ids("what is known?", [(sentence, [first])], [first], model="stub")
    fabricated = with_ids("what is known?", [("Unicorns drink liquid moonlight daily.", [first])], [first])
    assert writer.consider(clean).accepted is False  # a copy of the document's own first sentence...
    decisions = [json.loads(line) for line in (tmp_path / "decisions.jsonl").read_text().splitlines()]
    assert decisions[0]["accepted"] is False and "novelty" in decisions[0]["reason"]
    other = [d for d in corpus if d != first][:1][0]
    other_sentence = corpus[other].text.split(".")[0] + "."
    stitched = with_ids("what is known?", [(sentence, [first]), (other_sentence, [other])], [first, other])
    assert "copies" in writer.consider(stitched).reason  # two copies are no more novel than one

    def reworded(text: str) -> str:  # the same words (the word-bag NLI still entails it), new order
        return " ".join(reversed(text.rstrip(".").split())) + "."

    combined = with_ids(
        "what is known?",
        [(reworded(sentence), [first]), (reworded(other_sentence), [other])],
        [first, other],
        model="stub",
    )
    accepted = writer.consider(combined)
    assert accepted.accepted and accepted.doc_id.startswith("wb:")
    assert index.current.written[accepted.doc_id]["provenance"]["cited"] == [first, other]
    rejected = writer.consider(fabricated)
    assert not rejected.accepted and rejected.doc_id is None and "entailment" in rejected.reason
    assert len(index.current.written) == 1
    lines = (tmp_path / "decisions.jsonl").read_text().splitlines()
    assert [json.loads(line)["accepted"] for line in lines] == [False, False, True, False]
    assert {g["gate"] for g in json.loads(lines[2])["gates"]} == {"entailment", "attribution", "novelty"}
