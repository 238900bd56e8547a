"""Cookie sessions for web pages (issue 16): a page signs in once with a team credential, then calls the API with
its session cookie; unsafe requests need the CSRF token (Django REST framework's refusals); only the team's allowed
origins are trusted and get credentialed CORS answers; signing out or revoking the credential ends the session."""

import pytest
import requests

from tests.stack import Client

SIGN_IN = "/api/auth/session/"
CSRF_MISSING = {"detail": "CSRF Failed: CSRF token missing."}
CSRF_INCORRECT = {"detail": "CSRF Failed: CSRF token from the 'X-Csrftoken' HTTP header incorrect."}
CSRF_NO_COOKIE = {"detail": "CSRF Failed: CSRF cookie not set."}
NOT_AUTHENTICATED = {"detail": "Authentication credentials were not provided."}
FORBIDDEN = {"detail": "You do not have permission to perform this action."}
PAGE = "https://app.example.com"


def untrusted(origin: str) -> dict:
    return {"detail": f"CSRF Failed: Origin checking failed - {origin} does not match any trusted origins."}


def signed_in(stack, credential_headers: dict) -> tuple[Client, dict]:
    """A browser-like client holding the cookies a sign-in set, and no other credential."""
    browser = Client(stack.base_url, None)
    response = browser.post(SIGN_IN, headers=credential_headers)
    assert response.status_code == 201, response.text
    return browser, response.json()


@pytest.fixture
def page(stack, tenant):
    stack.admin(f"set-allowed-origins --team {tenant.slug} --origin {PAGE}/")
    return tenant


def test_signing_in_sets_an_http_only_session_cookie_and_a_csrf_cookie(stack, tenant):
    response = requests.post(stack.base_url + SIGN_IN, headers={"X-api-key": tenant.key})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["team"] == tenant.slug and body["user"] == f"admin@{tenant.slug}" and body["read_only"] is False
    assert body["expires_at"].endswith("Z") and len(body["csrf_token"]) == 64
    cookies = response.headers.get_all("Set-Cookie") if hasattr(response.headers, "get_all") else None
    raw = response.raw.headers.getlist("Set-Cookie") if cookies is None else cookies
    session_cookie = next(c for c in raw if c.startswith("sessionid="))
    csrf_cookie = next(c for c in raw if c.startswith("csrftoken="))
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie and "Max-Age=1209600" in session_cookie
    assert "HttpOnly" not in csrf_cookie and f"csrftoken={body['csrf_token']}" in csrf_cookie
    assert "Secure" not in session_cookie  # plain HTTP here; under HTTPS it is Secure


def test_the_cookie_acts_as_the_credential_on_both_sides(stack, tenant):
    browser, session = signed_in(stack, {"X-api-key": tenant.key})
    assert browser.get("/api/sessions/").status_code == 200
    assert browser.get(SIGN_IN).json() == session
    created = browser.post(
        "/api/sessions/", json={"experiment": tenant.chatbot_id}, headers={"X-CSRFToken": session["csrf_token"]}
    )
    assert created.status_code == 201, created.text
    assert browser.get(f"/api/sessions/{created.json()['id']}/").status_code == 200


def test_unsafe_requests_need_the_csrf_token_and_cookie(stack, tenant):
    browser, session = signed_in(stack, {"X-api-key": tenant.key})
    body = {"experiment": tenant.chatbot_id}
    assert (refused := browser.post("/api/sessions/", json=body)).status_code == 403
    assert refused.json() == CSRF_MISSING
    assert browser.post("/api/sessions/", json=body, headers={"X-CSRFToken": "x" * 64}).json() == CSRF_INCORRECT
    without_csrf_cookie = Client(stack.base_url, None)
    without_csrf_cookie.cookies.set("sessionid", browser.cookies["sessionid"])
    answer = without_csrf_cookie.post("/api/sessions/", json=body, headers={"X-CSRFToken": session["csrf_token"]})
    assert answer.json() == CSRF_NO_COOKIE
    # Another session's token does not fit this one.
    _, other = signed_in(stack, {"X-api-key": tenant.key})
    assert browser.post("/api/sessions/", json=body, headers={"X-CSRFToken": other["csrf_token"]}).json() == (
        CSRF_INCORRECT
    )
    # Nothing was written by the refused requests.
    assert browser.get("/api/sessions/").json()["results"] == []


def test_an_explicit_credential_wins_over_the_cookie_and_needs_no_csrf_token(stack, tenant):
    browser, _ = signed_in(stack, {"X-api-key": tenant.read_only_key})
    created = browser.post("/api/sessions/", json={"experiment": tenant.chatbot_id}, headers={"X-api-key": tenant.key})
    assert created.status_code == 201, created.text


def test_a_read_only_keys_session_may_only_read(stack, tenant):
    browser, session = signed_in(stack, {"X-api-key": tenant.read_only_key})
    assert session["read_only"] is True
    assert browser.get("/api/sessions/").status_code == 200
    refused = browser.post(
        "/api/sessions/", json={"experiment": tenant.chatbot_id}, headers={"X-CSRFToken": session["csrf_token"]}
    )
    assert refused.status_code == 403 and refused.json() == FORBIDDEN


def test_an_oauth_tokens_session_keeps_its_scopes(stack, tenant):
    token = tenant.machine_token("sessions:read")
    browser, session = signed_in(stack, {"Authorization": f"Bearer {token['access_token']}"})
    assert session["user"] is None
    assert browser.get("/api/sessions/").status_code == 200
    assert browser.get("/api/participants").json() == FORBIDDEN
    refused = browser.post(
        "/api/sessions/", json={"experiment": tenant.chatbot_id}, headers={"X-CSRFToken": session["csrf_token"]}
    )
    assert refused.json() == FORBIDDEN


def test_signing_out_ends_the_session_everywhere(stack, tenant):
    browser, session = signed_in(stack, {"X-api-key": tenant.key})
    stolen = dict(browser.cookies)
    assert browser.delete(SIGN_IN).json() == CSRF_MISSING
    signed_out = browser.delete(SIGN_IN, headers={"X-CSRFToken": session["csrf_token"]})
    assert signed_out.status_code == 204
    assert "sessionid" not in browser.cookies
    replayed = Client(stack.base_url, None)
    replayed.cookies.update(stolen)
    for path in ("/api/sessions/", SIGN_IN):
        answer = replayed.get(path)
        assert answer.status_code == 401 and answer.json() == NOT_AUTHENTICATED


def test_revoking_the_credential_ends_its_sessions(stack, tenant):
    key = stack.admin(f"create-api-key --team {tenant.slug} --write")["key"]
    browser, session = signed_in(stack, {"X-api-key": key})
    assert browser.get("/api/sessions/").status_code == 200
    stack.admin(f"revoke-api-key --key-prefix {key.split('.')[0]}")
    assert browser.get("/api/sessions/").json() == NOT_AUTHENTICATED
    refused = browser.post(
        "/api/sessions/", json={"experiment": tenant.chatbot_id}, headers={"X-CSRFToken": session["csrf_token"]}
    )
    assert refused.status_code == 401


def test_a_forged_or_unknown_cookie_is_ignored(stack, tenant):
    browser, _ = signed_in(stack, {"X-api-key": tenant.key})
    session_id = browser.cookies["sessionid"].split(".")[0]
    for forged in (f"{session_id}.not-the-secret", "0" * 32 + ".x", "garbage", ""):
        client = Client(stack.base_url, None)
        client.cookies.set("sessionid", forged)
        assert client.get("/api/sessions/").json() == NOT_AUTHENTICATED
    assert browser.get(SIGN_IN, headers={"X-api-key": tenant.key}).status_code == 404  # no session: a key's


def test_only_the_teams_allowed_origins_are_trusted_and_get_credentialed_cors(stack, page):
    browser, session = signed_in(stack, {"X-api-key": page.key, "Origin": PAGE})
    allowed = browser.get("/api/sessions/", headers={"Origin": PAGE})
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == PAGE
    assert allowed.headers["Access-Control-Allow-Credentials"] == "true"
    created = browser.post(
        "/api/sessions/",
        json={"experiment": page.chatbot_id},
        headers={"Origin": PAGE, "X-CSRFToken": session["csrf_token"]},
    )
    assert created.status_code == 201 and created.headers["Access-Control-Allow-Origin"] == PAGE
    for origin in ("https://evil.example.com", "http://app.example.com", "null"):
        refused = browser.get("/api/sessions/", headers={"Origin": origin})
        assert refused.status_code == 403 and refused.json() == untrusted(origin)
        assert "Access-Control-Allow-Origin" not in refused.headers
    # The API's own origin is trusted without being listed.
    assert browser.get("/api/sessions/", headers={"Origin": stack.base_url}).status_code == 200


def test_another_teams_allowed_origin_is_not_trusted_with_this_teams_cookie(stack, page):
    other = stack.new_tenant()
    browser, session = signed_in(stack, {"X-api-key": other.key})
    refused = browser.get("/api/sessions/", headers={"Origin": PAGE})
    assert refused.json() == untrusted(PAGE) and "Access-Control-Allow-Origin" not in refused.headers
    # With an API key instead, the answer is not readable by a page the caller's team does not allow.
    keyed = requests.get(stack.base_url + "/api/sessions/", headers={"X-api-key": other.key, "Origin": PAGE})
    assert keyed.status_code == 200 and "Access-Control-Allow-Origin" not in keyed.headers


def test_preflights_are_answered_for_origins_some_team_allows(stack, page):
    preflight = {
        "Origin": PAGE,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-csrftoken",
    }
    for path in ("/api/sessions/", SIGN_IN, "/api/v1/participants"):
        answer = requests.options(stack.base_url + path, headers=preflight)
        assert answer.status_code == 200
        assert answer.headers["Access-Control-Allow-Origin"] == PAGE
        assert answer.headers["Access-Control-Allow-Credentials"] == "true"
        assert "x-csrftoken" in answer.headers["Access-Control-Allow-Headers"]
    unknown = requests.options(
        stack.base_url + "/api/sessions/", headers={**preflight, "Origin": "https://unknown.example.org"}
    )
    assert "Access-Control-Allow-Origin" not in unknown.headers


def test_allowed_origins_are_validated_and_replaced_whole(stack, tenant):
    with pytest.raises(Exception, match="not an origin"):
        stack.admin(f"set-allowed-origins --team {tenant.slug} --origin https://app.example.com/path")
    with pytest.raises(Exception, match="not an origin"):
        stack.admin(f"set-allowed-origins --team {tenant.slug} --origin javascript:alert(1)")
    answer = stack.admin(
        f"set-allowed-origins --team {tenant.slug} --origin HTTPS://App.Example.com:8443 --origin https://b.example"
    )
    assert answer == {"team": tenant.slug, "allowed_origins": ["https://app.example.com:8443", "https://b.example"]}
    assert stack.admin(f"set-allowed-origins --team {tenant.slug}")["allowed_origins"] == []


def test_hostile_cookies_and_tokens_are_refused_never_500(stack, tenant):
    browser, session = signed_in(stack, {"X-api-key": tenant.key})
    body = {"experiment": tenant.chatbot_id}
    for token in ("é" * 64, "\x00" * 64, "x" * 10_000, session["csrf_token"] + "é"):
        answer = browser.post("/api/sessions/", json=body, headers={"X-CSRFToken": token.encode("latin-1")})
        assert answer.status_code == 403 and answer.json() == CSRF_INCORRECT, token[:5]
    cookie = f"sessionid={browser.cookies['sessionid']}; csrftoken=é{session['csrf_token'][1:]}"
    answer = requests.post(
        stack.base_url + "/api/sessions/",
        json=body,
        headers={"Cookie": cookie.encode("latin-1"), "X-CSRFToken": session["csrf_token"]},
    )
    assert answer.json() == CSRF_INCORRECT
    for forged in ("é" * 40, "0" * 32 + ".é", "%ff" * 100, "a" * 8000):
        answer = requests.get(
            stack.base_url + "/api/sessions/", headers={"Cookie": f"sessionid={forged}".encode("latin-1")}
        )
        assert answer.status_code == 401 and answer.json() == NOT_AUTHENTICATED
