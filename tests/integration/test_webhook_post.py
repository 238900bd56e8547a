"""One webhook delivery attempt over real HTTP (`workers/webhook_post.py`): the request receivers rely on, and every
way a receiver or a URL can fail coming back as a reason, never as an exception that would end the worker."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from infra.wiring.local_servers import free_port
from tests.webhook_receiver import WebhookReceiver, signature_is_valid
from workers.webhook_post import post_event

ENVELOPE = {"event_id": "e-1", "type": "Team.Created", "team": "acme", "position": 7, "data": {"name": "Ünïcode"}}


@pytest.fixture
def receiver():
    server = WebhookReceiver()
    yield server
    server.stop()


def answering(handler_body) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            handler_body(self)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_a_delivery_is_the_envelope_as_utf8_json_with_its_headers_signed(receiver):
    assert post_event(receiver.url, "sub-1", "secret", ENVELOPE, timeout_s=5) is None
    ((headers, body),) = receiver.received
    assert json.loads(body.decode("utf-8")) == ENVELOPE
    assert headers["Content-Type"] == "application/json"
    assert (headers["X-OCS-Event-Id"], headers["X-OCS-Subscription-Id"]) == ("e-1", "sub-1")
    assert signature_is_valid("secret", headers, body) and not signature_is_valid("other", headers, body)


def test_a_refusal_is_its_status(receiver):
    receiver.failures = 1
    assert post_event(receiver.url, "sub-1", "secret", ENVELOPE, timeout_s=5) == "HTTP 503"


def test_a_redirect_is_not_followed():
    def redirect(handler):
        handler.send_response(307)
        handler.send_header("Location", "http://127.0.0.1:1/elsewhere")
        handler.end_headers()

    server = answering(redirect)
    try:
        url = f"http://127.0.0.1:{server.server_port}/"
        assert post_event(url, "sub-1", "secret", ENVELOPE, timeout_s=5) == "HTTP 307"
    finally:
        server.shutdown()
        server.server_close()


def test_a_receiver_that_does_not_answer_in_time_is_a_failed_attempt():
    answered = threading.Event()
    server = answering(lambda handler: answered.wait(5))
    try:
        error = post_event(f"http://127.0.0.1:{server.server_port}/", "sub-1", "secret", ENVELOPE, timeout_s=0.2)
        assert "timed out" in error
    finally:
        answered.set()
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    "url",
    [f"http://127.0.0.1:{free_port()}/", "http://host.invalid/", "gopher://example.com/", "not a url", "http://[::1/"],
)
def test_unreachable_or_malformed_urls_are_failed_attempts(url):
    assert post_event(url, "sub-1", "secret", ENVELOPE, timeout_s=2)
