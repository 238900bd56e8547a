"""The OAuth2 server and OAuth credentials end to end (SPEC §1.1-1.4, §3.15 a), driven by authlib's own
OAuth2 client: both grants, refresh, revocation, introspection, expiry, scopes and machine-token allowlists."""

import logging
import secrets
import time
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session

from tests.oauth_flow import REDIRECT_URI, AuthorizationCodeFlow
from tests.stack import ChatClient

NOT_ALLOWED = {"detail": "This application is not authorized to interact with this chatbot."}
FORBIDDEN = {"detail": "You do not have permission to perform this action."}
INVALID = {"detail": "Invalid token."}
CHAT_ACCESS_DENIED = {"error": "Authentication required to chat with this chatbot", "code": "chat_access_denied"}


def basic_auth(client: dict) -> tuple[str, str]:
    return client["client_id"], client["client_secret"]


def test_machine_token_reads_what_its_scopes_allow_on_both_sides(stack, tenant):
    token = tenant.machine_token("chatbots:read sessions:read", f"--chatbot {tenant.chatbot_id}")
    assert token["token_type"] == "Bearer" and token["scope"] == "chatbots:read sessions:read"
    assert "refresh_token" not in token
    api = tenant.bearer(token)
    assert [bot["id"] for bot in api.get("/api/experiments/").json()["results"]] == [tenant.chatbot_id]
    assert api.get("/api/sessions/").status_code == 200
    # Scopes it lacks: refused before validation, on reads and writes alike.
    assert api.get("/api/participants").json() == FORBIDDEN
    assert api.post("/api/sessions/", json={}).status_code == 403
    assert api.post("/api/experiments/").status_code == 403  # chatbots:write exists for no token


def test_machine_token_scope_is_limited_to_its_client(stack, tenant):
    client = tenant.oauth_client("client_credentials", "chatbots:read")
    session = OAuth2Session(client["client_id"], client["client_secret"], scope="chatbots:read sessions:write")
    with pytest.raises(OAuthError, match="invalid_scope"):
        session.fetch_token(f"{stack.base_url}/o/token/", grant_type="client_credentials")
    wrong = OAuth2Session(client["client_id"], "not-the-secret")
    with pytest.raises(OAuthError, match="invalid_client"):
        wrong.fetch_token(f"{stack.base_url}/o/token/", grant_type="client_credentials")


def test_machine_token_converses_only_with_allowlisted_chatbots(stack, bot_tenant):
    other_chatbot = bot_tenant.new_chatbot("Other")
    token = bot_tenant.machine_token("chatbots:interact sessions:write", f"--chatbot {bot_tenant.chatbot_id}")
    api = bot_tenant.bearer(token)
    completion = {"messages": [{"role": "user", "content": "hi"}]}
    assert api.post(f"/api/openai/{other_chatbot}/chat/completions", json=completion).json() == NOT_ALLOWED
    # No user behind a machine token: the participant must be named.
    refused = api.post(f"/api/openai/{bot_tenant.chatbot_id}/chat/completions", json=completion)
    assert refused.status_code == 400 and refused.json() == {"participant": "This field is required."}
    answered = api.post(
        f"/api/openai/{bot_tenant.chatbot_id}/chat/completions", json={**completion, "user": "someone@example.org"}
    )
    assert answered.status_code == 200, answered.text
    # incoming_message talks as the caller, and a machine has no self.
    incoming = api.post(f"/channels/api/{bot_tenant.chatbot_id}/incoming_message", json={"message": "hi"})
    assert incoming.status_code == 403 and incoming.json() == FORBIDDEN
    trigger = {
        "identifier": "someone@example.org",
        "platform": "api",
        "experiment": other_chatbot,
        "prompt_text": "say hi",
    }
    assert api.post("/api/trigger_bot", json=trigger).json() == NOT_ALLOWED
    # A session a machine token creates has a named participant; tags it adds have no actor.
    session = api.post("/api/sessions/", json={"experiment": bot_tenant.chatbot_id, "participant": "p@example.org"})
    assert session.status_code == 201, session.text


def test_machine_token_with_an_empty_allowlist_converses_with_nothing(stack, bot_tenant):
    api = bot_tenant.bearer(bot_tenant.machine_token("chatbots:interact"))
    completion = {"messages": [{"role": "user", "content": "hi"}], "user": "x@example.org"}
    assert api.post(f"/api/openai/{bot_tenant.chatbot_id}/chat/completions", json=completion).json() == NOT_ALLOWED


def test_another_teams_machine_token_sees_nothing_of_this_team(stack, tenant):
    other = stack.new_tenant()
    api = other.bearer(other.machine_token("chatbots:read sessions:read"))
    assert api.get(f"/api/experiments/{tenant.chatbot_id}/").status_code == 404
    assert [bot["id"] for bot in api.get("/api/experiments/").json()["results"]] == [other.chatbot_id]


def test_revoked_token_is_refused_at_once_on_both_sides_and_introspects_inactive(stack, tenant):
    client = tenant.oauth_client("client_credentials", "sessions:read sessions:write")
    session = OAuth2Session(client["client_id"], client["client_secret"])
    token = session.fetch_token(f"{stack.base_url}/o/token/", grant_type="client_credentials")
    introspected = requests.post(
        f"{stack.base_url}/o/introspect/", data={"token": token["access_token"]}, auth=basic_auth(client)
    ).json()
    assert introspected["active"] is True
    assert introspected["team"] == tenant.slug and introspected["scope"] == "sessions:read sessions:write"
    assert introspected["chatbots"] == [] and "username" not in introspected
    session.revoke_token(f"{stack.base_url}/o/revoke_token/", token["access_token"]).raise_for_status()
    api = tenant.bearer(token)
    assert api.get("/api/sessions/").json() == INVALID
    assert api.post("/api/sessions/", json={"experiment": tenant.chatbot_id}).json() == INVALID
    introspected = requests.post(
        f"{stack.base_url}/o/introspect/", data={"token": token["access_token"]}, auth=basic_auth(client)
    ).json()
    assert introspected == {"active": False}


def test_another_teams_client_cannot_introspect_or_revoke_a_token(stack, tenant):
    token = tenant.machine_token("sessions:read")
    stranger = stack.new_tenant().oauth_client("client_credentials", "sessions:read")
    introspected = requests.post(
        f"{stack.base_url}/o/introspect/", data={"token": token["access_token"]}, auth=basic_auth(stranger)
    )
    assert introspected.json() == {"active": False}
    revoked = requests.post(
        f"{stack.base_url}/o/revoke_token/", data={"token": token["access_token"]}, auth=basic_auth(stranger)
    )
    assert revoked.status_code == 400
    assert tenant.bearer(token).get("/api/sessions/").status_code == 200


def test_expired_token_is_refused_like_an_unknown_key(stack, tenant):
    token = tenant.machine_token("sessions:read", "--token-lifetime 1")
    assert token["expires_in"] == 1
    api = tenant.bearer(token)
    assert api.get("/api/sessions/").status_code == 200
    time.sleep(1.2)
    assert api.get("/api/sessions/").json() == INVALID
    assert api.post("/api/sessions/", json={}).json() == INVALID


def test_authorization_code_grant_with_pkce_then_refresh(stack, tenant):
    flow = AuthorizationCodeFlow(stack, tenant, "sessions:read sessions:write chatbots:read")
    described = requests.get(flow.url, headers={"X-api-key": tenant.key}).json()
    assert described["client_id"] == flow.client["client_id"]
    assert described["scopes"] == ["sessions:read", "sessions:write", "chatbots:read"]
    assert described["user"] == f"admin@{tenant.slug}"
    location = flow.consent(tenant.key)
    assert location.startswith(REDIRECT_URI) and f"state={flow.state}" in location
    token = flow.token(location)
    assert token["refresh_token"] and token["expires_in"] == 3600
    api = tenant.bearer(token)
    created = api.post("/api/sessions/", json={"experiment": tenant.chatbot_id})
    assert created.status_code == 201, created.text
    # The token acts as the consenting user: the participant defaults to them.
    assert created.json()["participant"]["identifier"] == f"admin@{tenant.slug}"
    assert api.get(f"/api/sessions/{created.json()['id']}/").status_code == 200
    # Refresh rotates: a new pair, and the old pair stops working.
    refreshed = flow.session.refresh_token(f"{stack.base_url}/o/token/", refresh_token=token["refresh_token"])
    assert refreshed["access_token"] != token["access_token"]
    assert tenant.bearer(refreshed).get("/api/sessions/").status_code == 200
    assert api.get("/api/sessions/").json() == INVALID
    with pytest.raises(OAuthError, match="invalid_grant"):
        flow.session.refresh_token(f"{stack.base_url}/o/token/", refresh_token=token["refresh_token"])


def test_a_code_works_once_and_its_reuse_revokes_what_it_gave(stack, tenant):
    flow = AuthorizationCodeFlow(stack, tenant, "sessions:read")
    location = flow.consent(tenant.key)
    api = tenant.bearer(flow.token(location))
    assert api.get("/api/sessions/").status_code == 200
    with pytest.raises(OAuthError, match="invalid_grant"):
        flow.token(location)
    assert api.get("/api/sessions/").json() == INVALID


def test_authorization_code_needs_the_right_verifier(stack, tenant):
    flow = AuthorizationCodeFlow(stack, tenant, "sessions:read")
    location = flow.consent(tenant.key)
    flow.verifier = secrets.token_urlsafe(48)
    with pytest.raises(OAuthError, match="invalid_grant"):
        flow.token(location)


def test_authorize_without_pkce_is_refused(stack, tenant):
    client = tenant.oauth_client("authorization_code", "sessions:read", f"--redirect-uri {REDIRECT_URI}")
    session = OAuth2Session(client["client_id"], client["client_secret"], redirect_uri=REDIRECT_URI)
    url, _ = session.create_authorization_url(f"{stack.base_url}/o/authorize/")
    response = requests.post(url, data={"allow": "yes"}, headers={"X-api-key": tenant.key}, allow_redirects=False)
    assert response.status_code == 302 and "error=invalid_request" in response.headers["Location"]
    assert "code=" not in response.headers["Location"]


@pytest.mark.parametrize("case", ["denied", "read_only_key_for_writes", "other_teams_key"])
def test_consent_is_refused_with_access_denied(stack, tenant, case):
    flow = AuthorizationCodeFlow(stack, tenant, "sessions:read sessions:write")
    key, allow = {
        "denied": (tenant.key, "no"),
        "read_only_key_for_writes": (tenant.read_only_key, "yes"),
        "other_teams_key": (stack.new_tenant().key, "yes"),
    }[case]
    location = flow.consent(key, allow)
    assert "error=access_denied" in location and "code=" not in location


def test_a_read_only_key_may_grant_reads(stack, tenant):
    flow = AuthorizationCodeFlow(stack, tenant, "sessions:read")
    token = flow.token(flow.consent(tenant.read_only_key))
    assert tenant.bearer(token).get("/api/sessions/").status_code == 200


def test_authorize_needs_an_api_key(stack, tenant):
    flow = AuthorizationCodeFlow(stack, tenant, "sessions:read")
    assert requests.get(flow.url).status_code == 401
    token = tenant.machine_token("sessions:read")
    refused = requests.get(flow.url, headers={"Authorization": f"Bearer {token['access_token']}"})
    assert refused.status_code == 403


def test_unknown_redirect_uri_is_not_followed(stack, tenant):
    flow = AuthorizationCodeFlow(stack, tenant, "sessions:read")
    url = flow.url.replace("client.example.org", "evil.example.org")
    response = requests.post(url, data={"allow": "yes"}, headers={"X-api-key": tenant.key}, allow_redirects=False)
    assert response.status_code == 400 and "Location" not in response.headers


def oauth_widget(stack, tenant, *domains: str) -> dict:
    allowed = " ".join(f"--allowed-domain {d}" for d in domains)
    return stack.admin(f"create-widget --chatbot {tenant.chatbot_id} --credential-mode oauth {allowed}")


def test_oauth_mode_widget_starts_chats_for_allowlisted_machine_tokens(stack, bot_tenant):
    assert oauth_widget(stack, bot_tenant)["embed_key"] is None
    token = bot_tenant.machine_token("chat:start", f"--chatbot {bot_tenant.chatbot_id}")
    chat = ChatClient(stack.base_url, {"Authorization": f"Bearer {token['access_token']}"})
    started = chat.start(bot_tenant.chatbot_id, page_context={"product": "Widgets"})
    assert started["session_token"]
    assert chat.reply_to(chat.say("hello"))["status"] == "complete"


@pytest.mark.parametrize(
    "case", ["origin_on_a_server_only_channel", "no_chat_start_scope", "not_allowlisted", "api_key", "no_channel"]
)
def test_oauth_start_refusals_are_one_401(stack, tenant, case):
    if case != "no_channel":
        oauth_widget(stack, tenant)
    scope = "chatbots:read" if case == "no_chat_start_scope" else "chat:start"
    allowlist = "" if case == "not_allowlisted" else f"--chatbot {tenant.chatbot_id}"
    credential = tenant.key if case == "api_key" else tenant.machine_token(scope, allowlist)["access_token"]
    headers = {"Authorization": f"Bearer {credential}"}
    if case == "origin_on_a_server_only_channel":
        headers["Origin"] = "https://example.com"
    response = requests.post(
        f"{stack.base_url}/api/chat/start/", json={"chatbot_id": tenant.chatbot_id}, headers=headers
    )
    assert response.status_code == 401 and response.json() == CHAT_ACCESS_DENIED


def test_oauth_start_from_a_browser_needs_an_allowed_origin(stack, tenant):
    oauth_widget(stack, tenant, "shop.example.com")
    token = tenant.machine_token("chat:start", f"--chatbot {tenant.chatbot_id}")
    body = {"chatbot_id": tenant.chatbot_id}
    for origin, status in (("https://shop.example.com", 201), ("https://evil.example.com", 401), (None, 401)):
        headers = {"Authorization": f"Bearer {token['access_token']}", **({"Origin": origin} if origin else {})}
        assert requests.post(f"{stack.base_url}/api/chat/start/", json=body, headers=headers).status_code == status


def test_no_secret_reaches_the_logs(stack, tenant, caplog):
    caplog.set_level(logging.DEBUG)
    flow = AuthorizationCodeFlow(stack, tenant, "sessions:read")
    location = flow.consent(tenant.key)
    token = flow.token(location)
    refreshed = flow.session.refresh_token(f"{stack.base_url}/o/token/", refresh_token=token["refresh_token"])
    tenant.bearer(refreshed).get("/api/sessions/")
    code = parse_qs(urlparse(location).query)["code"][0]
    secrets_used = [
        tenant.key.split(".")[1],
        flow.client["client_secret"],
        code.split(".")[1],
        *(t[name].split(".")[1] for t in (token, refreshed) for name in ("access_token", "refresh_token")),
    ]
    assert caplog.records
    for secret in secrets_used:
        assert secret not in caplog.text


ALL_SCOPES = {
    "chatbots:read",
    "chatbots:interact",
    "chat:start",
    "sessions:read",
    "sessions:write",
    "participants:read",
    "participants:write",
    "files:read",
    "usage:read",
}
SCOPED_ENDPOINTS = [
    ("GET", "/api/experiments/", None, "chatbots:read"),
    ("GET", "/api/experiments/{chatbot}/", None, "chatbots:read"),
    ("GET", "/api/sessions/", None, "sessions:read"),
    ("GET", "/api/v1/sessions/{session}/", None, "sessions:read"),
    ("POST", "/api/sessions/", {"experiment": "{chatbot}", "participant": "p@example.org"}, "sessions:write"),
    ("POST", "/api/sessions/{session}/end_experiment_session/", None, "sessions:write"),
    ("POST", "/api/sessions/{session}/tags/", {"tags": ["t"]}, "sessions:write"),
    ("DELETE", "/api/sessions/{session}/tags/", {"tags": ["t"]}, "sessions:write"),
    ("PATCH", "/api/sessions/{session}/update_state/", {"state": {"a": 1}}, "sessions:write"),
    ("GET", "/api/participants", None, "participants:read"),
    ("POST", "/api/participants", {"identifier": "p@example.org", "data": []}, "participants:write"),
    ("GET", "/api/files/1/content", None, "files:read"),
    ("GET", "/api/v2/usage/?metric=messages", None, "usage:read"),
    ("GET", "/api/v2/chatbots/{chatbot}/inspect/", None, "chatbots:read"),
    ("GET", "/api/v2/pipeline/nodes/", None, "chatbots:read"),
    ("GET", "/api/v2/pipeline/options/LLMResponseWithPrompt/", None, "chatbots:read"),
    (
        "POST",
        "/api/openai/{chatbot}/chat/completions",
        {"messages": [{"role": "user", "content": "hi"}], "user": "p@example.org"},
        "chatbots:interact",
    ),
    (
        "POST",
        "/api/trigger_bot",
        {"identifier": "p", "platform": "telegram", "experiment": "{chatbot}"},
        "chatbots:interact",
    ),
]


@pytest.mark.parametrize(
    "method, path, body, scope", SCOPED_ENDPOINTS, ids=[f"{m} {p}" for m, p, *_ in SCOPED_ENDPOINTS]
)
def test_each_endpoint_admits_its_scope_and_refuses_every_other(stack, tenant, method, path, body, scope):
    ids = {"chatbot": tenant.chatbot_id, "session": tenant.create_session()["id"]}
    fill = lambda value: value.format(**ids) if isinstance(value, str) else value  # noqa: E731
    path, body = fill(path), {key: fill(value) for key, value in body.items()} if body else None
    allowlist = f"--chatbot {tenant.chatbot_id}"
    allowed = tenant.bearer(tenant.machine_token(scope, allowlist)).request(method, path, json=body)
    assert allowed.status_code not in (401, 403), allowed.text
    others = " ".join(sorted(ALL_SCOPES - {scope}))
    refused = tenant.bearer(tenant.machine_token(others, allowlist)).request(method, path, json=body)
    assert refused.status_code == 403 and refused.json() == FORBIDDEN
