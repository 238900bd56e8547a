"""Chat-session admission (SPEC §1.6): token, embed key and origin rules, checked on a bare request."""

import time

import pytest
from flask import Flask

from infra.chat_admission import SessionAccess, WidgetAccess, admit_chat_caller, host_allowed
from infra.session_tokens import LIFETIME_S, SessionTokens
from schemas.errors import ApiError

TOKENS = SessionTokens("secret")
WIDGET = WidgetAccess("channel-1", "bot-1", ("example.com",), "embed_key", True, "")


def session(created_at: float | None = None, token_required: bool = True, channel_id: str = "api") -> SessionAccess:
    return SessionAccess("s-1", "bot-1", channel_id, token_required, created_at or time.time())


def refusal(access: SessionAccess | None, headers: dict) -> ApiError | None:
    by_key = {"key-1": WIDGET}
    by_id = {WIDGET.channel_id: WIDGET}
    with Flask(__name__).test_request_context(headers=headers):
        try:
            admit_chat_caller(access, by_key.get, by_id.get, TOKENS)
        except ApiError as exc:
            return exc
    return None


def test_a_valid_token_admits_until_seven_days_after_creation():
    headers = {"X-Session-Token": TOKENS.mint("s-1")}
    assert refusal(session(), headers) is None
    aged = refusal(session(created_at=time.time() - LIFETIME_S - 1), headers)
    assert (aged.status, aged.body) == (403, {"error": "Session has expired", "code": "session_expired"})


def test_tokens_are_bound_to_their_session_and_signature():
    for token in (TOKENS.mint("s-2"), SessionTokens("other").mint("s-1"), "s-1.", "garbage"):
        assert refusal(session(), {"X-Session-Token": token}).body["code"] == "session_token_invalid"


def test_missing_session_never_answers_404():
    assert refusal(None, {}).body == {"detail": "Authentication credentials were not provided."}
    assert refusal(None, {"X-Embed-Key": "key-1"}).body == {"detail": "Session does not exist"}


def test_tokenless_sessions_take_their_own_widgets_key_from_an_allowed_origin():
    own = session(token_required=False, channel_id="channel-1")
    assert refusal(own, {"X-Embed-Key": "key-1", "Origin": "https://example.com"}) is None
    assert refusal(own, {"X-Embed-Key": "key-1", "Origin": "https://evil.com"}).status == 403
    assert refusal(own, {"X-Embed-Key": "nope", "Origin": "https://example.com"}).body == {
        "detail": "Invalid widget embed key"
    }
    assert refusal(own, {}).status == 403


@pytest.mark.parametrize(
    ("allowed", "host", "admitted"),
    [
        (("*",), "any.host", True),
        (("*",), None, False),
        (("example.com",), "example.com", True),
        (("example.com",), "www.example.com", False),
        (("*.example.com",), "www.example.com", True),
        (("*.example.com",), "example.com", False),
        (("https://Example.com",), "example.com", True),
    ],
)
def test_domain_rules(allowed, host, admitted):
    assert host_allowed(allowed, host) is admitted
