"""CORS (SPEC §1.6, and beyond it for signed-in pages). The chat endpoints answer any origin, without credentials,
so a widget on any site works. The team endpoints answer, with credentials, only the origins a team allows
(`ocs admin set-allowed-origins`): a preflight is answered here for an origin some team allows (it carries no
credential, so whose team it is cannot be known yet), and each answer then carries the CORS headers only for an
origin the caller's own team allows (`infra/authentication.py`)."""

from collections.abc import Callable

from pymongo.database import Database

from schemas.read_models import TEAMS

CHAT_PATHS = ("/api/chat/", "/api/v1/chat/")
CHAT_ALLOW_HEADERS = (
    "accept, authorization, content-type, x-embed-key, x-session-token, x-ocs-widget-version, last-event-id"
)
CHAT_ALLOW_METHODS = "GET, POST, OPTIONS"
TEAM_ALLOW_HEADERS = "accept, authorization, content-type, x-api-key, x-csrftoken, idempotency-key, last-event-id"
TEAM_ALLOW_METHODS = "GET, POST, PATCH, DELETE, OPTIONS"
PREFLIGHT_MAX_AGE_S = "86400"


class TeamOrigins:
    """Whether any team allows an origin, from the read models (an index answers it)."""

    def __init__(self, db: Database):
        self.db = db

    def allowed_anywhere(self, origin: str) -> bool:
        return self.db[TEAMS].find_one({"allowed_origins": origin}, {"_id": 1}) is not None


class Cors:
    def __init__(self, app, allowed_anywhere: Callable[[str], bool]):
        self.app = app
        self.allowed_anywhere = allowed_anywhere

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        preflight = environ["REQUEST_METHOD"] == "OPTIONS" and environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD")
        if path.startswith(CHAT_PATHS):
            if preflight:
                return answer_preflight(start_response, "*", CHAT_ALLOW_METHODS, CHAT_ALLOW_HEADERS)

            def with_cors(status, headers, exc_info=None):
                return start_response(status, [*headers, ("Access-Control-Allow-Origin", "*")], exc_info)

            return self.app(environ, with_cors)
        origin = environ.get("HTTP_ORIGIN")
        if preflight and origin and path.startswith("/api/") and self.allowed_anywhere(origin):
            return answer_preflight(
                start_response,
                origin,
                TEAM_ALLOW_METHODS,
                TEAM_ALLOW_HEADERS,
                [("Access-Control-Allow-Credentials", "true"), ("Vary", "Origin")],
            )
        return self.app(environ, start_response)


def answer_preflight(start_response, origin: str, methods: str, headers: str, extra: list | None = None):
    start_response(
        "200 OK",
        [
            ("Access-Control-Allow-Origin", origin),
            ("Access-Control-Allow-Methods", methods),
            ("Access-Control-Allow-Headers", headers),
            ("Access-Control-Max-Age", PREFLIGHT_MAX_AGE_S),
            *(extra or []),
            ("Content-Length", "0"),
        ],
    )
    return [b""]
