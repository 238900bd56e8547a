"""What each team endpoint requires of a credential (SPEC §1.4, §1.5), as the views declare it."""

import pytest
from flask import Flask
from werkzeug.exceptions import MethodNotAllowed

from command_api.http import app as command_app
from infra.authentication import Caller
from infra.permissions import BOT_MESSAGES, CHATBOTS, CONVERSATIONS, FILES, OWN_ADMISSION, SESSIONS, guard_of
from query_api.http import app as query_app


@pytest.fixture(scope="module")
def apps() -> tuple[Flask, Flask]:
    # Route tables only: building an app touches none of its dependencies.
    return command_app.create_app(*[None] * 8), query_app.create_app(*[None] * 8)


def guard_at(apps, method: str, path: str):
    """The guard of the view that answers (or, for a method nobody serves, owns) the path, as the apps find it."""
    owners = []
    for app in apps:
        adapter = app.url_map.bind("testserver")
        try:
            endpoint, _ = adapter.match(path, method=method)
        except MethodNotAllowed as exc:
            owners.append((app, adapter.match(path, method=sorted(exc.valid_methods)[0])[0]))
            continue
        except Exception:
            continue
        return guard_of(app.view_functions[endpoint])
    app, endpoint = owners[0]
    return guard_of(app.view_functions[endpoint])


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
        ("POST", "/api/openai/0b7e5d7a-7d3b-4b8e-9f0a-2a1c3e4d5f60/chat/completions", "chatbots:interact"),
        ("POST", "/channels/api/0b7e5d7a-7d3b-4b8e-9f0a-2a1c3e4d5f60/incoming_message", "chatbots:interact"),
        ("POST", "/api/trigger_bot", "chatbots:interact"),
    ],
)
def test_the_scope_each_endpoint_needs(apps, method, path, scope):
    assert guard_at(apps, method, path).requirement(method).scope == scope


def test_every_view_declares_who_it_admits(apps):
    """A view with no guard would be refused to everyone: each one names its guard, or admits its own callers."""
    for app in apps:
        for endpoint, view in app.view_functions.items():
            if endpoint != "static":
                assert hasattr(view, "guard"), endpoint
    chat_views = [view for endpoint, view in apps[0].view_functions.items() if endpoint.startswith(("chat.", "oauth."))]
    assert chat_views and all(guard_of(view) is OWN_ADMISSION for view in chat_views)


def caller(**kwargs) -> Caller:
    return Caller(**{"team": "t", "user": "u@t", "read_only": False, "roles": ("Super Admin",), **kwargs})


def may(who: Caller, guard, method: str) -> bool:
    return who.may(guard.requirement(method), method)


def test_api_keys_are_limited_by_read_only_and_roles_never_by_scopes():
    assert may(caller(), SESSIONS, "POST")
    assert not may(caller(read_only=True), SESSIONS, "POST")
    assert may(caller(read_only=True), SESSIONS, "GET")
    viewer = caller(roles=("Chat Viewer",))
    assert may(viewer, SESSIONS, "GET") and may(viewer, FILES, "GET")
    assert not may(viewer, CHATBOTS, "GET") and not may(viewer, SESSIONS, "POST")
    # Roles add up.
    assert may(caller(roles=("Chat Viewer", "Chatbot Admin")), CHATBOTS, "GET")
    # Conversations need a writable key and no role permission; triggering a bot needs its permission.
    assert may(caller(roles=("Team Admin",)), CONVERSATIONS, "POST")
    assert not may(caller(roles=("Chat Viewer",)), BOT_MESSAGES, "POST")


def test_tokens_need_the_scope_and_machine_tokens_skip_roles():
    user_token = caller(roles=("Chat Viewer",), scopes=frozenset({"sessions:read", "chatbots:read"}))
    assert may(user_token, SESSIONS, "GET")
    assert not may(user_token, CHATBOTS, "GET")  # scope without the role
    machine = caller(user=None, roles=(), scopes=frozenset({"chatbots:read"}))
    assert machine.is_machine and may(machine, CHATBOTS, "GET")
    assert not may(machine, SESSIONS, "GET")
