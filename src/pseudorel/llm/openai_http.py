"""A client for any OpenAI-compatible chat server (vLLM, llama.cpp server, Ollama), stdlib only."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

from pseudorel.llm.backend import LLMError


class OpenAIChatBackend:
    """POSTs to ``{base_url}/chat/completions``; retries connection errors and 5xx with backoff."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout: float = 60.0,
        retries: int = 2,
        backoff: float = 1.0,
    ):
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.model_id = f"openai:{base_url.rstrip('/')}:{model}"
        self.api_key, self.timeout, self.retries, self.backoff = api_key, timeout, retries, backoff

    def chat(self, request: dict[str, Any]) -> dict[str, Any]:
        return post_json(
            self.url, {"model": self.model, **request}, self.api_key, self.timeout, self.retries, self.backoff
        )


def post_json(
    url: str, payload: dict[str, Any], api_key: str | None, timeout: float, retries: int, backoff: float
) -> dict[str, Any]:
    """POST ``payload``; retries connection errors and 5xx with exponential backoff."""
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    last_error = ""
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(backoff * 2 ** (attempt - 1))
        try:
            req = urllib.request.Request(url, data=body, headers=headers, method="POST")
            with urllib.request.urlopen(req, timeout=timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as e:
            last_error = f"HTTP {e.code}: {e.read()[:200].decode(errors='replace')}"
            if e.code < 500:
                break  # a client error will not go away on retry
        except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
            last_error = str(getattr(e, "reason", e))
        except json.JSONDecodeError:
            last_error = "the server's answer is not JSON"
    raise LLMError(f"{url}: request failed after {retries + 1} attempt(s): {last_error}")
