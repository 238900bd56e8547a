"""What each team endpoint requires of a credential (SPEC §1.4, §1.5): the OAuth scope an OAuth token must
carry, and the role permissions the user behind an API key or an authorization-code token must hold.
One table, read by both API sides."""

import re
from dataclasses import dataclass

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

# Role permissions, named after what they allow (OCS checks the Django model permissions behind them).
VIEW_CHATBOTS = "view_chatbots"
VIEW_SESSIONS, ADD_SESSIONS, CHANGE_SESSIONS, DELETE_SESSIONS = (
    "view_sessions",
    "add_sessions",
    "change_sessions",
    "delete_sessions",
)
VIEW_PARTICIPANTS, CHANGE_PARTICIPANTS = "view_participants", "change_participants"
VIEW_FILES = "view_files"
TRIGGER_BOT = "trigger_bot"
ALL_PERMISSIONS = frozenset(
    {
        VIEW_CHATBOTS,
        VIEW_SESSIONS,
        ADD_SESSIONS,
        CHANGE_SESSIONS,
        DELETE_SESSIONS,
        VIEW_PARTICIPANTS,
        CHANGE_PARTICIPANTS,
        VIEW_FILES,
        TRIGGER_BOT,
    }
)

# OCS's groups, with what each may do through API v1 (from OCS's own group definitions: the chatbot admin
# owns the `experiments` app, files belong to assistant admins, chat viewers see sessions and files).
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "Super Admin": ALL_PERMISSIONS,
    "Team Admin": frozenset(),
    "Chatbot Admin": ALL_PERMISSIONS - {VIEW_FILES},
    "Event Admin": frozenset(),
    "Assistant Admin": frozenset({VIEW_FILES}),
    "Chat Viewer": frozenset({VIEW_SESSIONS, VIEW_FILES}),
    "Evaluation Admin": frozenset(),
    "Annotation Reviewer": frozenset({VIEW_SESSIONS}),
}
ROLES = tuple(ROLE_PERMISSIONS)
DEFAULT_ROLE = "Super Admin"


def permissions_of(roles) -> frozenset[str]:
    return frozenset().union(*(ROLE_PERMISSIONS.get(role, frozenset()) for role in roles))


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
