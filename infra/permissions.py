"""What each team endpoint requires of a credential (SPEC §1.4, §1.5): the OAuth scope an OAuth token must
carry, and the role permissions the user behind an API key or an authorization-code token must hold.

Each view declares its guard beside its route (`@guarded(SESSIONS)`), so a requirement is keyed on the
endpoint, not on a copy of its path. A view that declares none is refused to every credential; the chat and
OAuth endpoints, which admit their callers themselves (SPEC §1.6), say so with `@admits_own_callers`."""

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
    any_credential: bool = False


@dataclass(frozen=True)
class Guard:
    # A resource's scope is `<resource>:read` for safe methods and `<resource>:write` for the rest, and its
    # permissions follow the method as DRF's model permissions do; other guards name one scope for every method.
    resource: str | None
    scope: str | None
    permissions: dict[str, frozenset[str]]
    any_credential: bool = False  # whatever the credential may do, on every method: signing in and out

    def requirement(self, method: str) -> Requirement:
        if self.resource:
            scope = f"{self.resource}:{'read' if method in SAFE_METHODS else 'write'}"
        else:
            scope = self.scope
        permissions = self.permissions.get("GET" if method == "HEAD" else method, frozenset())
        return Requirement(scope, permissions, self.any_credential)


CHATBOTS = Guard("chatbots", None, {"GET": frozenset({VIEW_CHATBOTS})})
SESSIONS = Guard(
    "sessions",
    None,
    {
        "GET": frozenset({VIEW_SESSIONS}),
        "POST": frozenset({ADD_SESSIONS}),
        "PATCH": frozenset({CHANGE_SESSIONS}),
        "DELETE": frozenset({DELETE_SESSIONS}),
    },
)
PARTICIPANTS = Guard(
    "participants",
    None,
    {"GET": frozenset({VIEW_PARTICIPANTS}), "POST": frozenset({VIEW_PARTICIPANTS, CHANGE_PARTICIPANTS})},
)
FILES = Guard(None, "files:read", {"GET": frozenset({VIEW_FILES})})
BOT_MESSAGES = Guard(None, "chatbots:interact", {"POST": frozenset({TRIGGER_BOT})})
CONVERSATIONS = Guard(None, "chatbots:interact", {})
# A team's events show what happens to its sessions: who may read sessions may read them.
EVENTS = Guard(None, "events:read", {"GET": frozenset({VIEW_SESSIONS})})
# Usage counts sessions and their messages: who may read sessions may read how many there are.
USAGE = Guard(None, "usage:read", {"GET": frozenset({VIEW_SESSIONS})})
# Whom a credential acts as is for any credential of the team to know, whatever its scopes or roles.
IDENTITY = Guard(None, None, {}, any_credential=True)
# A page signs in with any credential of a team, and its session may do what that credential may (no more).
SIGN_IN = Guard(None, None, {}, any_credential=True)
NOTHING_GRANTS = Guard(None, None, {})
# The guard of a view that admits its callers itself.
OWN_ADMISSION = None


def guarded(guard: Guard):
    def declare(view):
        view.guard = guard
        return view

    return declare


def admits_own_callers(view):
    view.guard = OWN_ADMISSION
    return view


def guard_of(view) -> Guard | None:
    return getattr(view, "guard", NOTHING_GRANTS)
