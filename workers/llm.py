"""Calling a chatbot's LLM: any OpenAI-compatible endpoint through the `openai` client, or the offline
`echo` provider. Transient failures are retried with backoff a bounded number of times."""

import logging
import threading
import time
from dataclasses import dataclass

import openai

log = logging.getLogger(__name__)

# Worth another attempt: the provider may answer next time.
TRANSIENT = (openai.APITimeoutError, openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError)
BACKOFF_S = 0.5


class LlmFailure(Exception):
    """The provider gave no reply after every attempt; the message says why."""


@dataclass(frozen=True)
class LlmCall:
    provider: str
    model: str
    base_url: str | None
    api_key: str | None
    messages: list[dict]


class LlmClients:
    def __init__(self, timeout_s: float, attempts: int):
        self.timeout_s = timeout_s
        self.attempts = attempts
        self.clients: dict[tuple, openai.OpenAI] = {}
        self.lock = threading.Lock()

    def client(self, base_url: str | None, api_key: str | None) -> openai.OpenAI:
        with self.lock:
            key = (base_url, api_key)
            if key not in self.clients:
                # Retries are ours (bounded, with backoff, visible in logs); the client's own are off.
                self.clients[key] = openai.OpenAI(
                    base_url=base_url, api_key=api_key or "not-needed", timeout=self.timeout_s, max_retries=0
                )
            return self.clients[key]

    def reply(self, call: LlmCall) -> str:
        if call.provider == "echo":
            return call.messages[-1]["content"]
        client = self.client(call.base_url, call.api_key)
        for attempt in range(1, self.attempts + 1):
            try:
                completion = client.chat.completions.create(model=call.model, messages=call.messages)
                return completion.choices[0].message.content or ""
            except TRANSIENT as exc:
                if attempt == self.attempts:
                    raise LlmFailure(f"{type(exc).__name__}: {exc}") from exc
                log.warning("LLM call failed (%s), attempt %d of %d", exc, attempt, self.attempts)
                time.sleep(BACKOFF_S * 2 ** (attempt - 1))
            except openai.OpenAIError as exc:
                raise LlmFailure(f"{type(exc).__name__}: {exc}") from exc
        raise AssertionError("unreachable")
