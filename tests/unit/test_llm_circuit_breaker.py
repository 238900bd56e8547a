"""A provider that keeps failing is left alone for a while, so tasks end at once instead of each waiting."""

import time

import pytest

from infra.wiring.local_servers import free_port
from workers import llm
from workers.llm import BREAKER_FAILURES, CircuitBreaker, LlmCall, LlmClients, LlmFailure


def call_to(base_url: str) -> LlmCall:
    return LlmCall(
        provider="openai", model="m", base_url=base_url, api_key="k", messages=[{"role": "user", "content": "hi"}]
    )


def test_the_breaker_opens_after_failures_in_a_row_and_lets_a_trial_through_later(monkeypatch):
    breaker = CircuitBreaker()
    for _ in range(BREAKER_FAILURES):
        assert breaker.admit()
        breaker.failed()
    assert not breaker.admit()
    monkeypatch.setattr(llm, "BREAKER_OPEN_S", 0.0)
    breaker.open_until = time.monotonic()
    assert breaker.admit()  # the trial
    breaker.succeeded()
    assert breaker.admit() and breaker.failures == 0


def test_an_unreachable_provider_fails_fast_once_its_circuit_is_open():
    clients = LlmClients(timeout_s=2, attempts=1)
    unreachable = f"http://127.0.0.1:{free_port()}/v1"
    for _ in range(BREAKER_FAILURES):
        with pytest.raises(LlmFailure, match="APIConnectionError"):
            clients.reply(call_to(unreachable))
    with pytest.raises(LlmFailure, match="keeps failing"):
        clients.reply(call_to(unreachable))
    # Another provider is not affected.
    assert clients.breaker(f"http://127.0.0.1:{free_port()}/v1").admit()
