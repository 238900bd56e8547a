"""The sign-in cookies' attributes (infra/cookie_sessions.py): HttpOnly session cookie, readable CSRF cookie, Secure
under HTTPS and whenever SameSite is None (browsers refuse such a cookie otherwise)."""

import pytest
from flask import Flask, Response

from infra.cookie_sessions import CookiePolicy, clear_session_cookies, set_session_cookies


def cookies_set(policy: CookiePolicy, base_url: str) -> dict[str, str]:
    app = Flask(__name__)
    with app.test_request_context("/api/auth/session/", base_url=base_url):
        response = Response()
        set_session_cookies(response, policy, "id.secret", "csrf")
    return {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}


@pytest.mark.parametrize(
    ("base_url", "same_site", "secure"),
    [("http://api.test", "Lax", False), ("https://api.test", "Lax", True), ("http://api.test", "None", True)],
)
def test_the_cookies_are_secure_under_https_and_with_same_site_none(base_url, same_site, secure):
    cookies = cookies_set(CookiePolicy("key", 3600, same_site), base_url)
    session, csrf = cookies["sessionid"], cookies["csrftoken"]
    assert "HttpOnly" in session and "HttpOnly" not in csrf
    for cookie in (session, csrf):
        assert f"SameSite={same_site}" in cookie and "Max-Age=3600" in cookie and "Path=/" in cookie
        assert ("Secure" in cookie) is secure


def test_signing_out_clears_both_cookies():
    app = Flask(__name__)
    with app.test_request_context("/api/auth/session/", base_url="https://api.test"):
        response = Response()
        clear_session_cookies(response, CookiePolicy("key"))
    cleared = response.headers.getlist("Set-Cookie")
    assert {header.split("=", 1)[0] for header in cleared} == {"sessionid", "csrftoken"}
    assert all("Max-Age=0" in header and "Secure" in header for header in cleared)
