"""A subscriber's webhook endpoint for tests: an HTTP server on loopback that records what is delivered to it."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Webhook:
    """A subscriber's HTTP endpoint that records deliveries; it can be told to fail first."""

    def __init__(self):
        self.received: list[tuple] = []  # (headers, body); headers match names case-insensitively
        self.failures = 0
        webhook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if webhook.failures:
                    webhook.failures -= 1
                    self.send_response(503)
                else:
                    webhook.received.append((self.headers, body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
