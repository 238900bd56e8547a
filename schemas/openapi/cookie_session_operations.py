"""The text of signing a web page in and out (beyond OCS): cookie sessions for pages on the team's own sites."""

from schemas import responses as r
from schemas.openapi.building_blocks import SIGN_IN_CREDENTIALS, TEAM, answer, unauthenticated

CSRF = (
    "Requests with the cookie are admitted from the API's own origin and the team's allowed origins "
    "(`ocs admin set-allowed-origins`), whose pages also get credentialed CORS answers; a POST, PATCH or DELETE "
    "also needs the session's `csrf_token` in `X-CSRFToken` and the `csrftoken` cookie, or is refused with 403 "
    '`{"detail": "CSRF Failed: ..."}`.'
)


def csrf_refused() -> dict:
    return answer("`CSRF Failed: ...`: an untrusted origin, or a missing or wrong CSRF token", r.Detail)


def cookie_session_operations() -> dict:
    return {
        "auth_session_create": {
            "summary": "Sign a web page in: set the session cookie",
            "description": "With any team credential (an API key, read-only or not, or an OAuth token): sets the "
            "`sessionid` cookie (HttpOnly; Secure under HTTPS; SameSite `Lax` unless configured otherwise) and the "
            "`csrftoken` cookie, which last `OCS_COOKIE_SESSION_LIFETIME` seconds (two weeks by default). Requests "
            "that carry the cookie and no other credential act as this credential, with its user, roles and scopes, "
            "until the session is signed out or expires, or the credential is revoked or expires. " + CSRF,
            "tags": ["Sign-in"],
            "security": SIGN_IN_CREDENTIALS,
            "responses": {
                "201": answer(
                    "signed in; the cookies are set",
                    r.CookieSession,
                    headers={"Set-Cookie": {"schema": {"type": "string"}, "description": "`sessionid`, `csrftoken`"}},
                ),
                "401": unauthenticated(),
                "403": csrf_refused(),
            },
        },
        "auth_session_retrieve": {
            "summary": "The signed-in page's session and its CSRF token",
            "description": "For a page on another origin, which cannot read the API's `csrftoken` cookie: whom the "
            "cookie acts as, until when, and the token to send as `X-CSRFToken`. 404 with any other credential.",
            "tags": ["Sign-in"],
            "security": [{"cookieAuth": []}],
            "responses": {
                "200": answer("the session", r.CookieSession),
                "401": unauthenticated(),
                "403": csrf_refused(),
                "404": answer("the request carries no session cookie", r.Detail),
            },
        },
        "auth_session_destroy": {
            "summary": "Sign a web page out",
            "description": "Ends the session the cookie names (from now on the cookie is refused everywhere) and "
            "clears both cookies. " + CSRF,
            "tags": ["Sign-in"],
            "security": TEAM,
            "responses": {
                "204": answer("signed out; the cookies are cleared"),
                "401": unauthenticated(),
                "403": csrf_refused(),
            },
        },
    }
