"""LLM backends behind one interface, with an on-disk response cache.

Optional: the local backend needs ``xllamacpp`` (``pip install 'pseudorel[llm]'``); the
HTTP backend needs nothing beyond the standard library.
"""

from pseudorel.llm.backend import CachedBackend, ChatBackend, LLMError, ResponseCache, request_key
from pseudorel.llm.openai_http import OpenAIChatBackend

__all__ = ["CachedBackend", "ChatBackend", "LLMError", "OpenAIChatBackend", "ResponseCache", "request_key"]
