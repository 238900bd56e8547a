"""Who may use a chat session (SPEC §1.6): possession of its session token, or for sessions without
one, the right widget embed key from an allowed origin. Both API sides apply the same rules, each with
its own source of truth for sessions and channels."""

import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlparse

from flask import request

from infra.authentication import FORBIDDEN, NOT_AUTHENTICATED
from infra.rate_limits import throttle
from infra.session_tokens import LIFETIME_S, SessionTokens
from schemas.errors import ApiError, detail

INVALID_EMBED_KEY = "Invalid widget embed key"


@dataclass(frozen=True)
class WidgetAccess:
    channel_id: str
    chatbot_id: str
    allowed_domains: tuple[str, ...]
    auth_level: str
    enabled: bool
    disabled_message: str


@dataclass(frozen=True)
class SessionAccess:
    session_id: str
    chatbot_id: str
    channel_id: str
    session_token_required: bool
    created_at: float  # epoch seconds


def token_error(text: str, code: str) -> ApiError:
    return ApiError(403, {"error": text, "code": code})


def hostname(url: str) -> str | None:
    try:
        return (urlparse(url).hostname or "").lower() or None
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return None


def request_host() -> str | None:
    for header in ("Origin", "Referer"):
        value = request.headers.get(header)
        if value:
            return hostname(value)
    return None


def host_allowed(allowed_domains, host: str | None) -> bool:
    if not host:
        return False
    for entry in allowed_domains:
        entry = hostname(entry) if "://" in entry else entry.split(":")[0].lower()
        if entry and (entry == "*" or entry == host or (entry.startswith("*.") and host.endswith(entry[1:]))):
            return True
    return False


def embed_key(in_query: bool = False) -> str | None:
    return request.headers.get("X-Embed-Key") or (in_query and request.args.get("embed_key")) or None


def session_token(in_query: bool = False) -> str | None:
    return request.headers.get("X-Session-Token") or (in_query and request.args.get("session_token")) or None


def admit_widget(widget: WidgetAccess | None, chatbot_id: str, missing_status: int) -> WidgetAccess:
    """The embed key's widget, if it belongs to the chatbot and the request comes from an allowed origin."""
    if widget is None or widget.chatbot_id != chatbot_id:
        raise detail(missing_status, INVALID_EMBED_KEY)
    if not host_allowed(widget.allowed_domains, request_host()):
        raise detail(403, FORBIDDEN)
    return widget


def admit_chat_caller(
    session: SessionAccess | None,
    find_widget_by_key: Callable[[str], WidgetAccess | None],
    find_widget_by_id: Callable[[str], WidgetAccess | None],
    tokens: SessionTokens,
    credentials_in_query: bool = False,
) -> None:
    """Raise the SPEC's refusal unless this request may use the session (a missing session is a 403);
    an admitted request is counted in the session's rate limit. `credentials_in_query`: the session token and embed
    key may also come as the `session_token` and `embed_key` parameters (for the stream: a browser's EventSource
    sends no headers of its own)."""
    admit_session_caller(session, find_widget_by_key, find_widget_by_id, tokens, credentials_in_query)
    throttle("chat_api", session.session_id)


def admit_session_caller(
    session, find_widget_by_key, find_widget_by_id, tokens: SessionTokens, credentials_in_query: bool = False
) -> None:
    key = embed_key(credentials_in_query)
    if session is None:
        raise detail(403, "Session does not exist" if key else NOT_AUTHENTICATED)
    widget = admit_widget(find_widget_by_key(key), session.chatbot_id, 403) if key else None
    if session.session_token_required:
        token = session_token(credentials_in_query)
        if not token:
            raise token_error("Session token required", "session_token_required")
        if not tokens.is_valid_for(token, session.session_id):
            raise token_error("Invalid session token", "session_token_invalid")
        if time.time() - session.created_at > LIFETIME_S:
            raise token_error("Session has expired", "session_expired")
        return
    if widget is not None:
        if widget.channel_id != session.channel_id or widget.auth_level == "session_token":
            raise detail(403, FORBIDDEN)
        return
    own_channel = find_widget_by_id(session.channel_id)
    if own_channel is not None and own_channel.auth_level != "none":
        # No embed key and no login (a session token is no authentication here): OCS's anonymous refusal.
        raise detail(403, NOT_AUTHENTICATED)
