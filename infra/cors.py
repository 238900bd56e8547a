"""CORS for the chat endpoints only (SPEC §1.6): any origin, no credentials, so a widget on any site works."""

CHAT_PATHS = ("/api/chat/", "/api/v1/chat/")
ALLOW_HEADERS = "accept, authorization, content-type, x-embed-key, x-session-token, x-ocs-widget-version, last-event-id"
ALLOW_METHODS = "GET, POST, OPTIONS"


class ChatCors:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if not environ.get("PATH_INFO", "").startswith(CHAT_PATHS):
            return self.app(environ, start_response)
        if environ["REQUEST_METHOD"] == "OPTIONS" and environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD"):
            start_response(
                "200 OK",
                [
                    ("Access-Control-Allow-Origin", "*"),
                    ("Access-Control-Allow-Methods", ALLOW_METHODS),
                    ("Access-Control-Allow-Headers", ALLOW_HEADERS),
                    ("Access-Control-Max-Age", "86400"),
                    ("Content-Length", "0"),
                ],
            )
            return [b""]

        def with_cors(status, headers, exc_info=None):
            return start_response(status, [*headers, ("Access-Control-Allow-Origin", "*")], exc_info)

        return self.app(environ, with_cors)
