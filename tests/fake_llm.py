"""The one fake the tests allow: an OpenAI-compatible HTTP server that records what it is sent.

Replies are `reply(request_json) -> str`; `fail_next(n, status)` makes the next n calls fail.
"""

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeLlm:
    def __init__(self, reply=None, delay_s: float = 0.0):
        self.requests: list[dict] = []
        self.reply = reply or (lambda request: f"echo: {request['messages'][-1]['content']}")
        self.delay_s = delay_s
        self.failures: list[int] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                # Without it, small responses wait ~40 ms for delayed ACKs.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                status, payload = fake.answer(body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/v1"

    def start(self) -> "FakeLlm":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail_next(self, count: int, status: int = 503) -> None:
        with self.lock:
            self.failures.extend([status] * count)

    def answer(self, body: dict) -> tuple[int, dict]:
        with self.lock:
            self.requests.append(body)
            failure = self.failures.pop(0) if self.failures else None
        if self.delay_s:
            time.sleep(self.delay_s)
        if failure:
            return failure, {"error": {"message": "fake failure", "type": "server_error", "param": None, "code": None}}
        return 200, {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", ""),
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": self.reply(body)}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }

    def requests_containing(self, text: str) -> list[dict]:
        with self.lock:
            return [r for r in self.requests if any(text in (m.get("content") or "") for m in r["messages"])]
