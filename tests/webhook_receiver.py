"""A webhook receiver for tests: an HTTP endpoint on a free port that records each delivery it accepts, and can be
told to refuse (503) for a while, to answer slowly, or to hold every request unanswered until released."""

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class WebhookReceiver:
    def __init__(self, delay_s: float = 0.0):
        self.received: list[tuple] = []  # (headers, body) accepted; headers match names case-insensitively
        self.refused: list[tuple] = []  # (headers, body) answered 503
        self.failures = 0  # the next this many deliveries are refused
        self.failing = False  # every delivery is refused while set
        self.delay_s = delay_s
        self.arrivals = 0  # requests that came, answered or not
        self.released = threading.Event()  # cleared: requests wait, unanswered, until it is set again
        self.released.set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.arrivals += 1
                receiver.released.wait()
                time.sleep(receiver.delay_s)
                if receiver.failing or receiver.failures:
                    receiver.failures = max(receiver.failures - 1, 0)
                    receiver.refused.append((self.headers, body))
                    self.send_response(503)
                else:
                    receiver.received.append((self.headers, body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"

    def envelopes(self) -> list[dict]:
        """The accepted deliveries' bodies, in the order they arrived (a redelivered event appears again)."""
        return [json.loads(body) for _, body in self.received]

    def first_deliveries(self) -> list[dict]:
        """Each event once, where it first arrived: what a receiver de-duplicating by event id keeps."""
        seen, kept = set(), []
        for envelope in self.envelopes():
            if envelope["event_id"] not in seen:
                seen.add(envelope["event_id"])
                kept.append(envelope)
        return kept

    def stop(self):
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


def signature_is_valid(secret: str, headers, body: bytes) -> bool:
    """As a receiver checks `X-OCS-Signature`: HMAC-SHA256 over `<X-OCS-Timestamp>.` and the body."""
    signed = headers["X-OCS-Timestamp"].encode() + b"." + body
    expected = "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers["X-OCS-Signature"], expected)
