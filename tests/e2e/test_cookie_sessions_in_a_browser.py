"""A page on an origin the team allows signs in with a cookie and calls the API from headless Chromium; a page on
another origin cannot (issue 16). The page and the API are on different ports of 127.0.0.1: other origins of the
same site, as a team's app on `app.example.com` and the API on `api.example.com` are."""

import pytest

from tests.browser import headless_chromium, require_chromium, website

playwright = require_chromium()

# What the page's own script does: sign in with the key, then use nothing but the cookie and the CSRF token.
SCRIPT = """async ([api, key, chatbot]) => {
  const call = async (path, init = {}) => {
    const response = await fetch(api + path, {credentials: "include", ...init});
    return {status: response.status, body: response.status === 204 ? null : await response.json()};
  };
  const json = {"Content-Type": "application/json"};
  const signIn = await call("/api/auth/session/", {method: "POST", headers: {"X-api-key": key}});
  const csrf = signIn.body.csrf_token;
  const results = {signIn, readCookie: document.cookie};
  results.list = await call("/api/sessions/");
  results.withoutToken = await call("/api/sessions/", {method: "POST", headers: json,
    body: JSON.stringify({experiment: chatbot})});
  results.create = await call("/api/sessions/", {method: "POST", headers: {...json, "X-CSRFToken": csrf},
    body: JSON.stringify({experiment: chatbot, page_context: {page: location.href}})});
  results.again = await call("/api/auth/session/");
  results.signOut = await call("/api/auth/session/", {method: "DELETE", headers: {"X-CSRFToken": csrf}});
  results.afterSignOut = await call("/api/sessions/");
  return results;
}"""

BLOCKED = """async ([api, key]) => {
  try {
    await fetch(api + "/api/auth/session/", {method: "POST", credentials: "include", headers: {"X-api-key": key}});
    return "answered";
  } catch (error) {
    return "blocked";
  }
}"""


@pytest.fixture
def browser():
    with headless_chromium(playwright) as chromium:
        yield chromium


def test_a_page_on_an_allowed_origin_signs_in_and_calls_the_api_with_its_cookie(stack, tenant, browser, tmp_path):
    (tmp_path / "index.html").write_text("<!doctype html><title>Acme app</title><h1>Acme</h1>")
    with website(tmp_path) as site:
        stack.admin(f"set-allowed-origins --team {tenant.slug} --origin {site}")
        page = browser.new_page()
        page.goto(f"{site}/index.html")
        results = page.evaluate(SCRIPT, [stack.base_url, tenant.key, tenant.chatbot_id])

    assert results["signIn"]["status"] == 201, results
    # Cookies are per host, not per port, so this page sees the CSRF cookie; never the HttpOnly session cookie.
    assert "sessionid" not in results["readCookie"]
    assert results["list"] == {"status": 200, "body": {"next": None, "previous": None, "count": 0, "results": []}}
    assert results["withoutToken"] == {"status": 403, "body": {"detail": "CSRF Failed: CSRF token missing."}}
    assert results["create"]["status"] == 201, results
    assert results["create"]["body"]["state"] == {"page_context": {"page": f"{site}/index.html"}}
    assert results["again"]["status"] == 200 and results["again"]["body"] == results["signIn"]["body"]
    assert results["signOut"]["status"] == 204
    assert results["afterSignOut"]["status"] == 401
    # What the page did is the team's, as if done with the key.
    sessions = tenant.client().get("/api/sessions/").json()["results"]
    assert [session["id"] for session in sessions] == [results["create"]["body"]["id"]]


def test_a_page_on_an_origin_no_team_allows_cannot_even_sign_in(stack, tenant, browser, tmp_path):
    (tmp_path / "index.html").write_text("<!doctype html><title>Elsewhere</title>")
    with website(tmp_path, host="localhost") as site:
        page = browser.new_page()
        page.goto(f"{site}/index.html")
        assert page.evaluate(BLOCKED, [stack.base_url, tenant.key]) == "blocked"
