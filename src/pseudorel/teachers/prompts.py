"""Judge prompts: UMBRELA-style graded 0-3 and yes/no, framed in the corpus's own terms.

Measured on SciFact with Qwen2.5-Coder-1.5B (shared/docs/MODELS.md): instructions in the
system prompt (not the user turn) stopped the model answering "3" to everything and let the
runtime reuse the cached prefix; framing the task for the domain mattered most.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Domain:
    role: str  # who the judge is
    query: str  # what a query is called
    passage: str  # what a document is called
    grades: tuple[str, str, str, str]  # meaning of 0, 1, 2, 3
    yes: str  # when the binary answer is yes


DOMAINS = {
    "generic": Domain(
        "You are a search quality rater.",
        "search query",
        "passage",
        (
            "the passage has nothing to do with the query",
            "the passage is related to the query but does not answer it",
            "the passage has some answer for the query, but it is unclear or hidden among extraneous information",
            "the passage is dedicated to the query and contains the exact answer",
        ),
        "the passage answers the query",
    ),
    "claim": Domain(
        "You are an expert scientific fact-checker.",
        "claim",
        "abstract",
        (
            "the abstract is unrelated to the claim",
            "the abstract is on the same general topic but is not evidence about this claim",
            "the abstract is partial or indirect evidence about the claim",
            "the abstract directly supports or refutes the claim",
        ),
        "the abstract is evidence that supports or refutes the claim",
    ),
    "question": Domain(
        "You are an expert answering questions from documents.",
        "question",
        "passage",
        (
            "the passage is unrelated to the question",
            "the passage is on the question's topic but does not answer it",
            "the passage partly answers the question",
            "the passage fully answers the question",
        ),
        "the passage answers the question",
    ),
    "topic": Domain(
        "You are a librarian indexing documents by topic.",
        "topic",
        "document",
        (
            "the document is not about the topic",
            "the document mentions the topic in passing",
            "the document is partly about the topic",
            "the document is mainly about the topic",
        ),
        "the document is about the topic",
    ),
}


def system_prompt(domain: str, scale: str) -> str:
    if domain not in DOMAINS:
        raise ValueError(f"unknown judge domain '{domain}' (one of {', '.join(DOMAINS)})")
    d = DOMAINS[domain]
    if scale == "graded":
        levels = "\n".join(f"{g} = {text}" for g, text in reversed(list(enumerate(d.grades))))
        return (
            f"{d.role} You will see a {d.query} and a {d.passage}. Rate the {d.passage} for the {d.query} "
            f"on this scale:\n{levels}\nAnswer with the single digit only."
        )
    if scale == "binary":
        return (
            f"{d.role} You will see a {d.query} and a {d.passage}. Answer yes if {d.yes}, "
            "otherwise no. Answer with yes or no only."
        )
    raise ValueError(f"unknown judge scale '{scale}' (graded or binary)")


def writer_prompt(domain: str) -> str:
    """System prompt for writing one query that a passage answers (doc2query / InPars style),
    in the domain's terms: for ``claim``, a claim the abstract is evidence about."""
    if domain not in DOMAINS:
        raise ValueError(f"unknown query domain '{domain}' (one of {', '.join(DOMAINS)})")
    d = DOMAINS[domain]
    return (
        f"{d.role} Read the {d.passage} and write one short {d.query}, in your own words, such that "
        f"{d.yes}. Reply with the {d.query} only."
    )


def user_prompt(domain: str, query: str, passage: str) -> str:
    d = DOMAINS[domain]
    return f"{d.query.capitalize()}: {query}\n{d.passage.capitalize()}: {passage}\nScore:"


def truncate_words(text: str, max_words: int | None) -> str:
    if max_words is None:
        return text
    words = text.split()
    return text if len(words) <= max_words else " ".join(words[:max_words]) + " …"
