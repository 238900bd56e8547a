"""What each team endpoint requires of a credential (SPEC §1.4, §1.5): the OAuth scope an OAuth token must
carry, and the role permissions the user behind an API key or an authorization-code token must hold.
One table, read by both API sides."""

import re
from dataclasses import dataclass

from schemas.roles import (
    ADD_SESSIONS,
    CHANGE_PARTICIPANTS,
    CHANGE_SESSIONS,
    DELETE_SESSIONS,
    TRIGGER_BOT,
    VIEW_CHATBOTS,
    VIEW_FILES,
    VIEW_PARTICIPANTS,
    VIEW_SESSIONS,
)

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


@dataclass(frozen=True)
class Requirement:
    scope: str | None  # None: no token may use the endpoint (a method no scope grants)
    permissions: frozenset[str]


@dataclass(frozen=True)
class Endpoint:
    path: re.Pattern
    # A resource's scope is `<resource>:read` for safe methods and `<resource>:write` for the rest;
    # other endpoints name one scope for every method.
    resource: str | None
    scope: str | None
    permissions: dict[str, frozenset[str]]

    def requirement(self, method: str) -> Requirement:
        if self.resource:
            scope = f"{self.resource}:{'read' if method in SAFE_METHODS else 'write'}"
        else:
            scope = self.scope
        permissions = self.permissions.get("GET" if method == "HEAD" else method, frozenset())
        return Requirement(scope, permissions)


def api_path(tail: str) -> re.Pattern:
    return re.compile(rf"/api(?:/v1)?/{tail}")


ENDPOINTS = (
    Endpoint(api_path("experiments/"), "chatbots", None, {"GET": frozenset({VIEW_CHATBOTS})}),
    Endpoint(
        api_path("sessions/"),
        "sessions",
        None,
        {
            "GET": frozenset({VIEW_SESSIONS}),
            "POST": frozenset({ADD_SESSIONS}),
            "PATCH": frozenset({CHANGE_SESSIONS}),
            "DELETE": frozenset({DELETE_SESSIONS}),
        },
    ),
    Endpoint(
        api_path("participants"),
        "participants",
        None,
        {"GET": frozenset({VIEW_PARTICIPANTS}), "POST": frozenset({VIEW_PARTICIPANTS, CHANGE_PARTICIPANTS})},
    ),
    Endpoint(api_path("files/"), None, "files:read", {"GET": frozenset({VIEW_FILES})}),
    Endpoint(api_path("trigger_bot"), None, "chatbots:interact", {"POST": frozenset({TRIGGER_BOT})}),
    Endpoint(api_path("openai/"), None, "chatbots:interact", {}),
    Endpoint(re.compile("/channels/api/"), None, "chatbots:interact", {}),
)

NOTHING_GRANTS = Requirement(None, frozenset())


def requirement(path: str, method: str) -> Requirement:
    for endpoint in ENDPOINTS:
        if endpoint.path.match(path):
            return endpoint.requirement(method)
    return NOTHING_GRANTS
