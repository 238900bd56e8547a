"""The HTTP server of `ocs up` and `ocs run api` (werkzeug's): what it refuses itself, before the app sees a
request (a request line over 64 KiB, a malformed one), it answers in the SPEC's JSON error shape too."""

import json
from http import HTTPStatus

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class JsonErrorsRequestHandler(WSGIRequestHandler):
    def send_error(self, code, message=None, explain=None):
        # The standard library's own answer is an HTML page that echoes parts of the request.
        status = HTTPStatus(code)
        body = json.dumps({"detail": status.phrase}).encode()
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
