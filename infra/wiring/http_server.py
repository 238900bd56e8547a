"""The in-process HTTP server of the tests' stack (werkzeug's; `ocs up` serves with infra/wiring/gunicorn_server.py),
and the JSON answer both servers give to what they refuse themselves, before the app sees a request (a request
line too long, a malformed one): the SPEC's error shape, not the servers' own HTML pages that echo the request."""

import json
from http import HTTPStatus

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


def refusal_body(code: int) -> bytes:
    return json.dumps({"detail": HTTPStatus(code).phrase}).encode()


def json_refusal(code: int) -> bytes:
    """The whole HTTP response refusing a request with status `code`; the connection closes after it."""
    status, body = HTTPStatus(code), refusal_body(code)
    head = (
        f"HTTP/1.1 {code} {status.phrase}\r\nConnection: close\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


class JsonErrorsRequestHandler(WSGIRequestHandler):
    def send_error(self, code, message=None, explain=None):
        status = HTTPStatus(code)
        body = refusal_body(code)
        self.close_connection = True
        self.send_response(code, status.phrase)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and code >= 200 and code not in (HTTPStatus.NO_CONTENT, HTTPStatus.NOT_MODIFIED):
            self.wfile.write(body)


def api_server(host: str, port: int, app) -> BaseWSGIServer:
    return make_server(host, port, app, threaded=True, request_handler=JsonErrorsRequestHandler)
