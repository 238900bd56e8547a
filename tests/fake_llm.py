"""The one fake the tests allow: an OpenAI-compatible HTTP server that records what it is sent.

Replies are `reply(request_json) -> str`; `fail_next(n, status)` makes the next n calls fail. A request with
`stream: true` is answered as OpenAI streams: one chunk per word (`token_delay_s` apart), then the usage when asked
for; while `hold_last_token` is set, each streamed reply waits before its last word until `release_last_token()`,
so a test can see what reached a client before the provider finished, without timing anything.
`on_first_token(request_json, monotonic_s)`, when given, is called once a streamed reply's first word is written:
a benchmark measures from there how long the word takes to reach its client.
"""

import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WORDS = re.compile(r"\s*\S+|\s+")
USAGE = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}


class FakeLlm:
    def __init__(self, reply=None, delay_s: float = 0.0, token_delay_s: float = 0.0, on_first_token=None):
        self.requests: list[dict] = []
        self.reply = reply or (lambda request: f"echo: {request['messages'][-1]['content']}")
        self.delay_s = delay_s
        self.token_delay_s = token_delay_s
        self.on_first_token = on_first_token
        self.failures: list[int] = []
        self.lock = threading.Lock()
        self.hold_last_token = False
        self.last_token_released = threading.Event()
        self.streams_closed_early = 0  # streamed replies whose client went away before the last word
        self.connections = 0  # opened by clients
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                with fake.lock:
                    fake.connections += 1
                # Without it, small responses wait ~40 ms for delayed ACKs.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                status, payload = fake.answer(body)
                if status == 200 and body.get("stream"):
                    return self.stream(body, payload)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def stream(self, body: dict, completion: dict) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                words = WORDS.findall(completion["choices"][0]["message"]["content"])
                chunks = [{"role": "assistant", "content": ""}, *({"content": word} for word in words)]
                try:
                    for number, delta in enumerate(chunks):
                        if number == len(chunks) - 1 and number > 1 and fake.hold_last_token:
                            fake.last_token_released.wait(30)
                        self.send_chunk(completion, [{"index": 0, "delta": delta, "finish_reason": None}])
                        if number == 1 and fake.on_first_token:
                            fake.on_first_token(body, time.monotonic())
                        if number and fake.token_delay_s:
                            time.sleep(fake.token_delay_s)
                    self.send_chunk(completion, [{"index": 0, "delta": {}, "finish_reason": "stop"}])
                    if (body.get("stream_options") or {}).get("include_usage"):
                        self.send_chunk(completion, [], usage=USAGE)
                    self.send_data("[DONE]")
                    self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    with fake.lock:
                        fake.streams_closed_early += 1

            def send_chunk(self, completion: dict, choices: list, usage: dict | None = None) -> None:
                chunk = {**completion, "object": "chat.completion.chunk", "choices": choices, "usage": usage}
                self.send_data(json.dumps(chunk))

            def send_data(self, data: str) -> None:
                event = f"data: {data}\n\n".encode()
                self.wfile.write(f"{len(event):x}\r\n".encode() + event + b"\r\n")
                self.wfile.flush()

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

    def release_last_token(self) -> None:
        self.last_token_released.set()

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
            "usage": USAGE,
        }

    def requests_containing(self, text: str) -> list[dict]:
        with self.lock:
            return [r for r in self.requests if any(text in (m.get("content") or "") for m in r["messages"])]
