"""pseudorel: retrievers and rerankers trained from pseudo-relevance labels."""

__version__ = "0.1.0"
