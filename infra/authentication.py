"""Who is calling a team endpoint (SPEC §1.2) and whether they may (SPEC §1.4, §1.5).

Authenticators are tried in the SPEC's order: an OAuth2 bearer token, then `X-api-key`, then
`Authorization: Bearer` as an API key. An OAuth token this server does not recognise (unknown, expired,
revoked) is not refused by the OAuth step: it falls through and is refused as an unknown API key.
Each API side reads credentials from its own source of truth through a `CredentialStore`.

This server keeps no user accounts: a user is the identity an API key (or the key that consented to an
authorization-code token) acts as, with that key's roles. So SPEC §1.2's "user inactive" and "no longer a
member" refusals have nothing to check: access ends by revoking the key, and the tokens it consented to
(`/o/revoke_token/`), or when they expire.
"""

import re
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from flask import Flask, g, request
from werkzeug.exceptions import MethodNotAllowed, NotFound

from infra.permissions import OWN_ADMISSION, SAFE_METHODS, Requirement, guard_of
from infra.rate_limits import client_address, throttle
from infra.secrets import secret_matches, split_api_key
from schemas.errors import detail
from schemas.roles import permissions_of

NOT_AUTHENTICATED = "Authentication credentials were not provided."
FORBIDDEN = "You do not have permission to perform this action."
INVALID_TOKEN = "Invalid token."
NOT_ALLOWED_CHATBOT = "This application is not authorized to interact with this chatbot."
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="api"'}


@dataclass(frozen=True)
class StoredKey:
    team: str
    secret_hash: str
    user: str
    read_only: bool
    revoked: bool
    roles: tuple[str, ...]
    expires_at: float | None  # epoch seconds; None: never


@dataclass(frozen=True)
class StoredToken:
    team: str
    client_id: str
    user: str | None  # None: a machine token (client-credentials grant)
    roles: tuple[str, ...]
    scopes: tuple[str, ...]
    chatbots: tuple[str, ...] | None  # a machine token's allowlist
    access_hash: str
    expires_at: float  # epoch seconds
    revoked: bool


def epoch_s(iso_instant: str | None) -> float | None:
    return datetime.fromisoformat(iso_instant).timestamp() if iso_instant else None


class CredentialStore(Protocol):
    def api_key(self, prefix: str) -> StoredKey | None: ...

    def oauth_token(self, token_id: str) -> StoredToken | None: ...


@dataclass(frozen=True)
class Caller:
    team: str
    user: str | None
    read_only: bool
    roles: tuple[str, ...]
    scopes: frozenset[str] | None = None  # None: an API key, which is never scope-checked
    chatbots: frozenset[str] | None = None  # None: not limited to an allowlist

    @property
    def permissions(self) -> frozenset[str]:
        return permissions_of(self.roles)

    @property
    def is_machine(self) -> bool:
        return self.scopes is not None and self.user is None

    def may(self, needed: Requirement, method: str) -> bool:
        if self.scopes is not None and needed.scope not in self.scopes:
            return False
        if self.is_machine:  # machine tokens pass the role gate: scope and team decide (SPEC §1.4)
            return True
        if self.read_only and method not in SAFE_METHODS:
            return False
        return needed.permissions <= self.permissions

    def require_chatbot(self, chatbot_id: str) -> None:
        """Machine tokens converse only with the chatbots their application lists (SPEC §1.2)."""
        if self.chatbots is not None and str(chatbot_id) not in self.chatbots:
            raise detail(403, NOT_ALLOWED_CHATBOT)


# OAuth tokens are `<token id as 32 hex digits>.<secret>`; API keys have a short prefix instead.
TOKEN_ID = re.compile(r"[0-9a-f]{32}")


def split_oauth_token(token: str) -> tuple[str, str] | None:
    parts = split_api_key(token)
    return parts if parts and TOKEN_ID.fullmatch(parts[0]) else None


def bearer_token() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def oauth_caller(store: CredentialStore, token: str | None) -> Caller | None:
    """The caller a live OAuth access token stands for, or None for anything else."""
    parts = split_oauth_token(token) if token else None
    stored = store.oauth_token(parts[0]) if parts else None
    if (
        stored is None
        or stored.revoked
        or stored.expires_at <= time.time()
        or not secret_matches(parts[1], stored.access_hash)
    ):
        return None
    return Caller(
        team=stored.team,
        user=stored.user,
        read_only=False,
        roles=stored.roles,
        scopes=frozenset(stored.scopes),
        chatbots=frozenset(stored.chatbots) if stored.chatbots is not None else None,
    )


def api_key_caller(store: CredentialStore, key: str) -> Caller | None:
    parts = split_api_key(key)
    stored = store.api_key(parts[0]) if parts else None
    if (
        stored is None
        or stored.revoked
        or (stored.expires_at is not None and stored.expires_at <= time.time())
        or not secret_matches(parts[1], stored.secret_hash)
    ):
        return None
    return Caller(team=stored.team, user=stored.user, read_only=stored.read_only, roles=stored.roles)


def authenticate(store: CredentialStore) -> Caller:
    bearer = bearer_token()
    caller = oauth_caller(store, bearer)
    if caller is not None:
        return caller
    key = request.headers.get("X-api-key") or bearer
    if not key:
        raise detail(401, NOT_AUTHENTICATED, CHALLENGE)
    caller = api_key_caller(store, key)
    if caller is None:
        throttle("credentials", client_address())
        raise detail(401, INVALID_TOKEN, CHALLENGE)
    return caller


def matched_view(app: Flask):
    """The view of the request's endpoint; for a method it does not serve (a 405), the view of its path."""
    exc = request.routing_exception
    if isinstance(exc, MethodNotAllowed):
        adapter = app.url_map.bind_to_environ(request.environ)
        endpoint, _ = adapter.match(method=sorted(exc.valid_methods)[0])
    else:
        endpoint = request.url_rule.endpoint
    return app.view_functions[endpoint]


def require_team_credential(app: Flask, store: CredentialStore) -> None:
    """Authenticate and authorise every team-endpoint request, by the guard its view declares, before it is
    throttled; a 405 comes only after both (SPEC §0.3)."""

    @app.before_request
    def admit():
        if isinstance(request.routing_exception, NotFound):
            return
        guard = guard_of(matched_view(app))
        if guard is OWN_ADMISSION:
            return
        caller = authenticate(store)
        if not caller.may(guard.requirement(request.method), request.method):
            raise detail(403, FORBIDDEN)
        g.caller = caller
        throttle("api", caller.team)
