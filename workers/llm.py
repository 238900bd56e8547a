"""Calling a chatbot's LLM: any OpenAI-compatible endpoint through the `openai` client, or the offline
`echo` provider. Replies are streamed from the provider, each piece handed to a listener as it arrives, which may
also stop the reply between pieces. Transient failures are retried with backoff a bounded number of times (only
before the first piece: a listener never receives a piece twice), and a provider that keeps failing is left alone
for a while (a circuit breaker per endpoint), so its chatbots' tasks end in an error at once instead of each
waiting out every retry, while other providers' chatbots go on."""

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import openai
from openai import Stream
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from infra.metrics import LLM_CALL_SECONDS, LLM_ERRORS

log = logging.getLogger(__name__)

# Worth another attempt: the provider may answer next time.
TRANSIENT = (openai.APITimeoutError, openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError)
BACKOFF_S = 0.5
# Calls that failed in a row (after their retries) before an endpoint's circuit opens, and for how long.
BREAKER_FAILURES = 5
BREAKER_OPEN_S = 30.0


class LlmFailure(Exception):
    """The provider gave no reply after every attempt; the message says why."""


@dataclass(frozen=True)
class Listener:
    """Who follows a reply while it is generated: `piece` receives its text piece by piece, in order, and
    `stop_requested` is asked after each piece whether to stop there."""

    piece: Callable[[str], None] = lambda text: None
    stop_requested: Callable[[], bool] = lambda: False


NO_LISTENER = Listener()


@dataclass(frozen=True)
class LlmReply:
    text: str
    usage: dict | None = None  # prompt_tokens, completion_tokens, total_tokens, as the provider reported them
    stopped: bool = False  # the listener asked to stop: `text` is what was generated until then


USAGE_FIELDS = {"prompt_tokens", "completion_tokens", "total_tokens"}
ECHO_PIECES = re.compile(r"\s*\S+|\s+")


def echoed(call: "LlmCall", listener: Listener) -> LlmReply:
    """The offline provider: the last message again, word by word."""
    text = ""
    for piece in ECHO_PIECES.findall(call.messages[-1]["content"]):
        text += piece
        listener.piece(piece)
        if listener.stop_requested():
            return LlmReply(text, stopped=True)
    return LlmReply(text)


@dataclass(frozen=True)
class LlmCall:
    provider: str
    model: str
    base_url: str | None
    api_key: str | None
    messages: list[dict]


class CircuitBreaker:
    """Open after too many failures in a row: calls fail at once until a trial call is let through."""

    def __init__(self):
        self.failures = 0
        self.open_until = 0.0
        self.lock = threading.Lock()

    def admit(self) -> bool:
        with self.lock:
            now = time.monotonic()
            if now < self.open_until:
                return False
            if self.failures >= BREAKER_FAILURES:
                self.open_until = now + BREAKER_OPEN_S  # half-open: this one call is the trial
            return True

    def succeeded(self) -> None:
        with self.lock:
            self.failures, self.open_until = 0, 0.0

    def failed(self) -> None:
        with self.lock:
            self.failures += 1
            if self.failures >= BREAKER_FAILURES:
                self.open_until = time.monotonic() + BREAKER_OPEN_S


class LlmClients:
    def __init__(self, timeout_s: float, attempts: int):
        self.timeout_s = timeout_s
        self.attempts = attempts
        self.clients: dict[tuple, openai.OpenAI] = {}
        self.breakers: dict[str | None, CircuitBreaker] = {}
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

    def breaker(self, base_url: str | None) -> CircuitBreaker:
        with self.lock:
            return self.breakers.setdefault(base_url, CircuitBreaker())

    def reply(self, call: LlmCall, listener: Listener = NO_LISTENER) -> LlmReply:
        if call.provider == "echo":
            return echoed(call, listener)
        breaker = self.breaker(call.base_url)
        if not breaker.admit():
            LLM_ERRORS.labels(call.provider, "circuit_open").inc()
            raise LlmFailure(f"the provider at {call.base_url or 'OpenAI'} keeps failing; not called for now")
        started = time.perf_counter()
        try:
            reply = self.attempt_reply(call, listener)
        except LlmFailure as exc:
            breaker.failed()
            LLM_ERRORS.labels(call.provider, type(exc.__cause__).__name__).inc()
            raise
        finally:
            LLM_CALL_SECONDS.labels(call.provider).observe(time.perf_counter() - started)
        breaker.succeeded()
        return reply

    def attempt_reply(self, call: LlmCall, listener: Listener) -> LlmReply:
        client = self.client(call.base_url, call.api_key)
        for attempt in range(1, self.attempts + 1):
            received = Received()
            try:
                streamed(client, call, listener, received)
                return LlmReply("".join(received.pieces), received.usage, received.stopped)
            except TRANSIENT as exc:
                if received.pieces or attempt == self.attempts:
                    raise LlmFailure(f"{type(exc).__name__}: {exc}") from exc
                log.warning("LLM call failed (%s), attempt %d of %d", exc, attempt, self.attempts)
                time.sleep(BACKOFF_S * 2 ** (attempt - 1))
            except openai.OpenAIError as exc:
                raise LlmFailure(f"{type(exc).__name__}: {exc}") from exc
        raise AssertionError("unreachable")


class WholeBodyStream(Stream[ChatCompletionChunk]):
    """The `openai` client's Stream stops reading at `data: [DONE]` and closes the response while the body's end
    (the last chunk of its chunked encoding, usually a packet of its own) is still unread, which closes the
    connection: every call opened a new one, a TCP and TLS handshake (and its round trips) with a real provider.
    This one reads the body to its end before `[DONE]` is taken, so the connection goes back to the client's pool;
    a body that fails to end only costs the connection, not the reply. (`_iter_events` is the one hook the class has
    for its events; a test counts the connections, so a client that no longer calls it is noticed.)"""

    def _iter_events(self):
        events = super()._iter_events()
        for event in events:
            if event.data.startswith("[DONE]"):
                try:
                    for _ in events:
                        pass
                except openai.APIError as exc:
                    log.info("the provider's answer did not end after [DONE] (%s); its connection is closed", exc)
            yield event


@dataclass
class Received:
    """What one attempt has received so far."""

    pieces: list[str] = field(default_factory=list)
    usage: dict | None = None
    stopped: bool = False


def streamed(client: openai.OpenAI, call: LlmCall, listener: Listener, received: Received) -> None:
    """One streamed completion, its pieces handed to the listener as they arrive. The request is the one the typed
    `chat.completions.create` sends, without its pass over every message to transform it (there is nothing to
    transform in plain role/content strings: 4.4 -> 1.3 ms of CPU per call with a 20-message history)."""
    body = {
        "model": call.model,
        "messages": call.messages,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    with client.post(
        "/chat/completions", body=body, cast_to=ChatCompletion, stream=True, stream_cls=WholeBodyStream
    ) as chunks:
        for chunk in chunks:
            if chunk.usage is not None:
                received.usage = chunk.usage.model_dump(include=USAGE_FIELDS)
            piece = chunk.choices[0].delta.content if chunk.choices else None
            if piece:
                received.pieces.append(piece)
                listener.piece(piece)
                if listener.stop_requested():
                    received.stopped = True
                    return  # leaving the block closes the response: the provider stops generating
