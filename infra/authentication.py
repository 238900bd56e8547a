"""Who is calling a team endpoint (SPEC §1.2) and whether they may (SPEC §1.4, §1.5).

Authenticators are tried in the SPEC's order: an OAuth2 bearer token, then `X-api-key`, then
`Authorization: Bearer` as an API key. An OAuth token this server does not recognise (unknown, expired,
revoked) is not refused by the OAuth step: it falls through and is refused as an unknown API key.
Each API side reads credentials from its own source of truth through a `CredentialStore`.

A web page may instead sign in once with a credential (`POST /api/auth/session/`) and send the session cookie it gets
(`infra/cookie_sessions.py`); the cookie is tried last, acts as that credential for as long as both live, and
passes the CSRF check. Cookies are ignored on the chat endpoints, which admit their callers themselves.

This server keeps no user accounts: a user is the identity an API key (or the key that consented to an
authorization-code token) acts as, with that key's roles. So SPEC §1.2's "user inactive" and "no longer a
member" refusals have nothing to check: access ends by revoking the key, and the tokens it consented to
(`/o/revoke_token/`), or when they expire.
"""

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from flask import Flask, g, request
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from infra.cookie_sessions import SESSION_COOKIE, CookiePolicy, is_trusted, require_csrf
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


@dataclass(frozen=True)
class StoredCookieSession:
    team: str
    credential: str  # `api_key:<prefix>` or `oauth_token:<token id>`
    secret_hash: str
    expires_at: float  # epoch seconds
    ended: bool


def epoch_s(iso_instant: str | None) -> float | None:
    return datetime.fromisoformat(iso_instant).timestamp() if iso_instant else None


class CredentialStore(Protocol):
    def api_key(self, prefix: str) -> StoredKey | None: ...

    def oauth_token(self, token_id: str) -> StoredToken | None: ...

    def cookie_session(self, session_id: str) -> StoredCookieSession | None: ...

    def allowed_origins(self, team: str) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class Caller:
    team: str
    user: str | None
    read_only: bool
    roles: tuple[str, ...]
    scopes: frozenset[str] | None = None  # None: an API key, which is never scope-checked
    chatbots: frozenset[str] | None = None  # None: not limited to an allowlist
    credential: str = ""  # what a sign-in acts as: `api_key:<prefix>` or `oauth_token:<token id>`
    cookie_session: str | None = None  # the cookie session it came with, if that is how it authenticated

    @property
    def permissions(self) -> frozenset[str]:
        return permissions_of(self.roles)

    @property
    def is_machine(self) -> bool:
        return self.scopes is not None and self.user is None

    def may(self, needed: Requirement, method: str) -> bool:
        if needed.any_credential:
            return True
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


def token_caller(token_id: str, stored: StoredToken | None) -> Caller | None:
    """The caller a live OAuth access token stands for (its secret already checked)."""
    if stored is None or stored.revoked or stored.expires_at <= time.time():
        return None
    return Caller(
        team=stored.team,
        user=stored.user,
        read_only=False,
        roles=stored.roles,
        scopes=frozenset(stored.scopes),
        chatbots=frozenset(stored.chatbots) if stored.chatbots is not None else None,
        credential=f"oauth_token:{token_id}",
    )


def key_caller(prefix: str, stored: StoredKey | None) -> Caller | None:
    """The caller a live API key stands for (its secret already checked)."""
    if stored is None or stored.revoked or (stored.expires_at is not None and stored.expires_at <= time.time()):
        return None
    return Caller(
        team=stored.team,
        user=stored.user,
        read_only=stored.read_only,
        roles=stored.roles,
        credential=f"api_key:{prefix}",
    )


def oauth_caller(store: CredentialStore, token: str | None) -> Caller | None:
    """The caller a live OAuth access token stands for, or None for anything else."""
    parts = split_oauth_token(token) if token else None
    stored = store.oauth_token(parts[0]) if parts else None
    if stored is None or not secret_matches(parts[1], stored.access_hash):
        return None
    return token_caller(parts[0], stored)


def api_key_caller(store: CredentialStore, key: str) -> Caller | None:
    parts = split_api_key(key)
    stored = store.api_key(parts[0]) if parts else None
    if stored is None or not secret_matches(parts[1], stored.secret_hash):
        return None
    return key_caller(parts[0], stored)


def credential_caller(store: CredentialStore, credential: str) -> Caller | None:
    """The caller a credential a sign-in names stands for now: none once it is revoked or expired."""
    kind, _, name = credential.partition(":")
    if kind == "api_key":
        return key_caller(name, store.api_key(name))
    if kind == "oauth_token":
        return token_caller(name, store.oauth_token(name))
    return None


def cookie_caller(store: CredentialStore, cookies: CookiePolicy) -> Caller | None:
    """The caller a live cookie session acts as, once its request passes the CSRF check; None for a cookie that
    names no live session (ended, expired, or its credential revoked or expired), which is ignored as Django
    ignores a stale session."""
    cookie = request.cookies.get(SESSION_COOKIE)
    parts = split_oauth_token(cookie) if cookie else None
    stored = store.cookie_session(parts[0]) if parts else None
    if (
        stored is None
        or stored.ended
        or stored.expires_at <= time.time()
        or not secret_matches(parts[1], stored.secret_hash)
    ):
        return None
    caller = credential_caller(store, stored.credential)
    if caller is None or caller.team != stored.team:
        return None
    g.team = caller.team  # a refusal below is then CORS-readable only by the team's own pages
    require_csrf(cookies, parts[0], store.allowed_origins(stored.team))
    return replace(caller, cookie_session=parts[0])


def authenticate(store: CredentialStore, cookies: CookiePolicy | None = None) -> Caller:
    """The caller, by the first credential the request carries; a session cookie counts only with `cookies`."""
    bearer = bearer_token()
    caller = oauth_caller(store, bearer)
    if caller is not None:
        return caller
    key = request.headers.get("X-api-key") or bearer
    if key:
        caller = api_key_caller(store, key)
        if caller is None:
            throttle("credentials", client_address())
            raise detail(401, INVALID_TOKEN, CHALLENGE)
        return caller
    caller = cookie_caller(store, cookies) if cookies else None
    if caller is None:
        raise detail(401, NOT_AUTHENTICATED, CHALLENGE)
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


def require_team_credential(
    app: Flask, store: CredentialStore, cookies: CookiePolicy, allowed_anywhere: Callable[[str], bool]
) -> None:
    """Authenticate and authorise every team-endpoint request, by the guard its view declares, before it is
    throttled; a 405 comes only after both (SPEC §0.3). Answers to pages on other origins carry credentialed CORS
    headers only for the origins the caller's team allows (`allowed_anywhere`: some team does, for an answer
    to a caller of no known team, such as a refused sign-in)."""

    @app.before_request
    def admit():
        # No view to ask for a guard: not found, or a view's path but for its trailing slash, which Flask redirects
        # to the path with it (308, the method kept) before authentication, as OCS's Django redirects.
        if isinstance(request.routing_exception, (NotFound, RequestRedirect)):
            return
        guard = guard_of(matched_view(app))
        if guard is OWN_ADMISSION:
            return
        g.team_endpoint = True
        caller = authenticate(store, cookies)
        g.caller, g.team = caller, caller.team
        if not caller.may(guard.requirement(request.method), request.method):
            raise detail(403, FORBIDDEN)
        throttle("api", caller.team)

    @app.after_request
    def credentialed_cors(response):
        origin = request.headers.get("Origin")
        if not origin or not g.get("team_endpoint"):
            return response
        team = g.get("team")
        if is_trusted(origin, store.allowed_origins(team)) if team else allowed_anywhere(origin):
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Credentials"] = "true"
            response.headers["Access-Control-Expose-Headers"] = "Location, Retry-After"
            response.vary.add("Origin")
        return response
