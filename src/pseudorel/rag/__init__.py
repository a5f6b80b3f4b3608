"""Retrieval-augmented answers on top of a retriever or an adapted system: answers that cite the
documents they used, retrieval gated by the LLM's own confidence, downstream evaluation
(SciFact claim verification) and task-utility labels."""

from pseudorel.rag.answer import Answer, Answerer, RagSettings
from pseudorel.rag.prompts import TASKS, VERDICTS

__all__ = ["TASKS", "VERDICTS", "Answer", "Answerer", "RagSettings"]
