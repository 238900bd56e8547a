"""Rate limits (SPEC §1.8): counted per team, chat session and failed credentials, shared by every API
process through MongoDB; headers on every throttled answer; 429 only when enforcement is on."""

import dataclasses
import threading
import uuid

import pytest

from infra.wiring.bootstrap import System
from infra.wiring.http_server import api_server
from infra.wiring.local_servers import free_port
from tests.stack import ChatClient, Client, eventually


@pytest.fixture
def enforcing_api(stack):
    """A second API process on the same servers, enforcing tiny limits."""
    settings = dataclasses.replace(
        stack.system.settings,
        rate_limit_enforce=True,
        rate_limit_db=f"limits_{uuid.uuid4().hex}",  # counts of its own, whatever else ran in this window
        rate_limits={"api": "3/5minute", "chat_api": "2/5minute", "credentials": "2/5minute"},
    )
    system = System(settings)
    server = api_server("127.0.0.1", free_port(), system.api())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    system.close()


def test_throttled_answers_carry_the_headers_and_count_down(tenant):
    client = tenant.client()
    first, second = client.get("/api/sessions/"), client.get("/api/sessions/")
    assert first.headers["X-RateLimit-Limit"] == "2000"
    assert int(second.headers["X-RateLimit-Remaining"]) == int(first.headers["X-RateLimit-Remaining"]) - 1
    assert 0 < int(first.headers["X-RateLimit-Reset"]) <= 300


def test_over_the_team_limit_is_429_when_enforcing(enforcing_api, stack):
    tenant = stack.new_tenant()
    client = Client(enforcing_api, tenant.key)
    answers = [client.get("/api/sessions/") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    assert refused.json()["detail"] == "Rate limit exceeded." and refused.json()["available_in"] > 0
    assert refused.headers["Retry-After"] == str(refused.json()["available_in"])
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    # Another team has its own count.
    assert Client(enforcing_api, stack.new_tenant().key).get("/api/sessions/").status_code == 200


def test_failed_keys_are_counted_per_address(enforcing_api):
    answers = [Client(enforcing_api, "nope.nope").get("/api/sessions/") for _ in range(3)]
    assert [a.status_code for a in answers] == [401, 401, 429]
    assert "X-RateLimit-Limit" in answers[0].headers


def test_chat_sessions_have_their_own_limit(enforcing_api, stack, tenant):
    chat = ChatClient(enforcing_api)
    chat.start(tenant.chatbot_id)
    path = f"/api/chat/{chat.session_id}/poll/"
    assert [chat.get(path).status_code for _ in range(3)] == [200, 200, 429]


def test_only_logging_each_process_adds_its_counts_to_the_shared_counter_within_moments(stack):
    tenant = stack.new_tenant()
    client = tenant.client()
    answers = [client.get("/api/experiments/") for _ in range(5)]
    remaining = [int(answer.headers["X-RateLimit-Remaining"]) for answer in answers]
    assert remaining == [remaining[0] - n for n in range(5)]
    limits = stack.system.rate_limits
    counter = limits.rates["api"].key_for("api", tenant.slug)
    assert eventually(lambda: limits.storage.get(counter) == 5, timeout_s=5)
    # The batched counts are the library's own documents: an enforcing process counts on from them.
    assert limits.storage.incr(counter, limits.rates["api"].get_expiry()) == 6
    assert abs(limits.storage.get_expiry(counter) - limits.window_ends[counter]) < 1
