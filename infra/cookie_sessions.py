"""Cookie sessions for web pages (beyond OCS's headless API): the cookies a sign-in sets, and the CSRF check that
every request authenticated by one passes, with Django REST framework's refusals (`CSRF Failed: ...`).

A page signs in once (`POST /api/auth/session/` with an API key or OAuth token) and its browser then sends the
`sessionid` cookie. Because a browser sends cookies with requests that other sites' pages make, a cookie-authenticated
request is admitted only from a trusted origin (the API's own, or one the team allows) and, unless it is safe, only
with the session's CSRF token in `X-CSRFToken` and the `csrftoken` cookie. The token is derived from the session id
with the server's secret, so it is never stored, and a page on another origin, which cannot read the API's
cookies, is handed it in the sign-in's body (and by `GET /api/auth/session/`)."""

import hashlib
import hmac
from dataclasses import dataclass

from flask import Response, request

from infra.permissions import SAFE_METHODS
from schemas.errors import detail

SESSION_COOKIE = "sessionid"
CSRF_COOKIE = "csrftoken"
CSRF_HEADER = "X-CSRFToken"
SAME_SITE_VALUES = ("Lax", "Strict", "None")
DEFAULT_LIFETIME_S = 14 * 24 * 3600  # Django's SESSION_COOKIE_AGE


@dataclass(frozen=True)
class CookiePolicy:
    secret_key: str
    lifetime_s: int = DEFAULT_LIFETIME_S
    same_site: str = "Lax"  # `None` lets a page on another site use the cookie (browsers then require HTTPS)

    def csrf_token(self, session_id: str) -> str:
        return hmac.new(self.secret_key.encode(), f"csrf:{session_id}".encode(), hashlib.sha256).hexdigest()


def own_origin() -> str:
    return request.host_url.rstrip("/")


def is_trusted(origin: str, team_origins) -> bool:
    return origin == own_origin() or origin in team_origins


def csrf_failed(reason: str):
    return detail(403, f"CSRF Failed: {reason}")


def require_csrf(policy: CookiePolicy, session_id: str, team_origins) -> None:
    """Admit a request authenticated by the cookie session `session_id`, or refuse it as Django does. Beyond Django,
    a cookie-authenticated read from an untrusted origin is refused too: it could read another team's data."""
    origin = request.headers.get("Origin")
    if origin is not None and not is_trusted(origin, team_origins):
        raise csrf_failed(f"Origin checking failed - {origin} does not match any trusted origins.")
    if request.method in SAFE_METHODS:
        return
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie:
        raise csrf_failed("CSRF cookie not set.")
    header = request.headers.get(CSRF_HEADER)
    if not header:
        raise csrf_failed("CSRF token missing.")
    expected = policy.csrf_token(session_id).encode()
    # As bytes: compare_digest refuses text that is not ASCII, which a client may well send.
    sent = (text.encode("utf-8", "surrogateescape") for text in (header, cookie))
    if not all(hmac.compare_digest(value, expected) for value in sent):
        raise csrf_failed(f"CSRF token from the '{CSRF_HEADER.title()}' HTTP header incorrect.")


def cookie_attributes(policy: CookiePolicy) -> dict:
    """Both cookies' attributes: Secure under HTTPS, and always with SameSite=None, which browsers require it for."""
    return {"path": "/", "secure": request.is_secure or policy.same_site == "None", "samesite": policy.same_site}


def set_session_cookies(response: Response, policy: CookiePolicy, cookie: str, csrf_token: str) -> None:
    """The session cookie no script reads (HttpOnly), and the CSRF cookie a page of the API's own host may read."""
    for name, value, http_only in ((SESSION_COOKIE, cookie, True), (CSRF_COOKIE, csrf_token, False)):
        response.set_cookie(name, value, max_age=policy.lifetime_s, httponly=http_only, **cookie_attributes(policy))


def clear_session_cookies(response: Response, policy: CookiePolicy) -> None:
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, **cookie_attributes(policy))
