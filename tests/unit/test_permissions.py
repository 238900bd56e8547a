"""What each team endpoint requires of a credential (SPEC §1.4, §1.5)."""

import pytest

from infra.authentication import Caller
from infra.permissions import requirement


@pytest.mark.parametrize(
    "method, path, scope",
    [
        ("GET", "/api/experiments/", "chatbots:read"),
        ("GET", "/api/v1/experiments/abc/", "chatbots:read"),
        ("POST", "/api/experiments/", "chatbots:write"),
        ("GET", "/api/sessions/", "sessions:read"),
        ("POST", "/api/sessions/", "sessions:write"),
        ("DELETE", "/api/sessions/x/tags/", "sessions:write"),
        ("PATCH", "/api/sessions/x/update_state/", "sessions:write"),
        ("GET", "/api/participants", "participants:read"),
        ("POST", "/api/v1/participants/", "participants:write"),
        ("GET", "/api/files/3/content", "files:read"),
        ("POST", "/api/openai/x/chat/completions", "chatbots:interact"),
        ("POST", "/channels/api/x/incoming_message", "chatbots:interact"),
        ("POST", "/api/trigger_bot", "chatbots:interact"),
        ("GET", "/api/somewhere-else/", None),
    ],
)
def test_the_scope_each_endpoint_needs(method, path, scope):
    assert requirement(path, method).scope == scope


def caller(**kwargs) -> Caller:
    return Caller(**{"team": "t", "user": "u@t", "read_only": False, "roles": ("Super Admin",), **kwargs})


def test_api_keys_are_limited_by_read_only_and_roles_never_by_scopes():
    assert caller().may("/api/sessions/", "POST")
    assert not caller(read_only=True).may("/api/sessions/", "POST")
    assert caller(read_only=True).may("/api/sessions/", "GET")
    viewer = caller(roles=("Chat Viewer",))
    assert viewer.may("/api/sessions/", "GET") and viewer.may("/api/files/1/content", "GET")
    assert not viewer.may("/api/experiments/", "GET") and not viewer.may("/api/sessions/", "POST")
    # Roles add up.
    assert caller(roles=("Chat Viewer", "Chatbot Admin")).may("/api/experiments/", "GET")
    # Conversations need a writable key and no role permission.
    assert caller(roles=("Team Admin",)).may("/api/openai/x/chat/completions", "POST")


def test_tokens_need_the_scope_and_machine_tokens_skip_roles():
    user_token = caller(roles=("Chat Viewer",), scopes=frozenset({"sessions:read", "chatbots:read"}))
    assert user_token.may("/api/sessions/", "GET")
    assert not user_token.may("/api/experiments/", "GET")  # scope without the role
    machine = caller(user=None, roles=(), scopes=frozenset({"chatbots:read"}))
    assert machine.is_machine and machine.may("/api/experiments/", "GET")
    assert not machine.may("/api/sessions/", "GET")
