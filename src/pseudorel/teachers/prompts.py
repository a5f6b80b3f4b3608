"""Judge prompts: UMBRELA-style graded 0-3 and yes/no, framed in the corpus's own terms.

Measured on SciFact with Qwen2.5-Coder-1.5B (shared/docs/MODELS.md): instructions in the
system prompt (not the user turn) stopped the model answering "3" to everything and let the
runtime reuse the cached prefix; framing the task for the domain mattered most.
"""

from __future__ import annotations

#: How each domain names the two sides of a pair and what "relevant" means there.
DOMAINS = {
    "generic": ("search query", "passage", "the passage answers or is highly relevant to the search query"),
    "claim": ("claim", "abstract", "the abstract is direct scientific evidence that supports or refutes the claim"),
    "question": ("question", "passage", "the passage answers the question"),
    "topic": ("topic", "document", "the document is about the topic"),
}

GRADED = (
    "You judge search results. Given a {q} and a {p}, rate how well {rel_short} on a 0-3 scale:\n"
    "3 = perfectly: {rel}.\n"
    "2 = highly relevant, but partly or indirectly.\n"
    "1 = related to the {q}'s subject, but not useful for it.\n"
    "0 = unrelated.\n"
    "Answer with the single digit only."
)
BINARY = (
    "You judge search results. Given a {q} and a {p}, answer yes if {rel}, otherwise no.\nAnswer with yes or no only."
)


def system_prompt(domain: str, scale: str) -> str:
    if domain not in DOMAINS:
        raise ValueError(f"unknown judge domain '{domain}' (one of {', '.join(DOMAINS)})")
    q, p, rel = DOMAINS[domain]
    template = {"graded": GRADED, "binary": BINARY}.get(scale)
    if template is None:
        raise ValueError(f"unknown judge scale '{scale}' (graded or binary)")
    return template.format(q=q, p=p, rel=rel, rel_short=f"the {p} serves the {q}")


def user_prompt(domain: str, query: str, passage: str) -> str:
    q, p, _ = DOMAINS[domain]
    return f"{q.capitalize()}: {query}\n{p.capitalize()}: {passage}\nScore:"


def truncate_words(text: str, max_words: int | None) -> str:
    if max_words is None:
        return text
    words = text.split()
    return text if len(words) <= max_words else " ".join(words[:max_words]) + " …"
