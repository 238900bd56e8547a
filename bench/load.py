# ruff: noqa: E402  (gevent must patch the standard library before anything else is imported)
"""The load: locust users, run as a library in a process of their own (locust patches the standard library
with gevent on import, so nothing else of the harness runs here).

- WidgetPollUser: starts a chat session, then sends a message and polls its task every `poll_interval` s
  (first poll at once, as the OCS load test does) until it is complete; a new session every
  `messages_per_session` messages.
- WidgetStreamUser: the same conversation, but waits for the reply on the session's SSE stream.
- StreamingWidgetUser (instead of WidgetPollUser when `stream_replies`): a WidgetStreamUser that also notes when the
  first `delta` event of each reply arrives.
- CompletionUser: a service asking for chat completions, with `stream: true` when `stream_replies` (then it notes
  when the first chunk with content arrives).
- ApiReader: lists sessions (`GET /api/sessions/`) and reads one of them (`GET /api/sessions/{id}/`).
- ReadModelProbe: sends one message every `probe_every_s` and polls `GET /api/chat/{sid}/poll/` every
  `probe_interval_s` until the user's own message is there: the command-to-read-model delay.

`python -m bench.load CONFIG.json RESULT.json` prints LOAD_START, warms up, prints MEASURE_START, runs for the duration,
prints MEASURE_END, and writes the result.
"""

from gevent import monkey

monkey.patch_all()  # before anything imports ssl or socket (locust would do it on import, too late for requests)

import json
import logging
import sys
import time
from collections import Counter, defaultdict
from urllib.parse import urlencode
from uuid import uuid4

import gevent
import gevent.event
import requests
from locust import FastHttpUser, constant, events, task
from locust.env import Environment

from bench.stats import summary
from bench.streaming import message_id

CONFIG: dict = {}


class Recorder:
    """Every request and every answered message inside the measurement window."""

    def __init__(self):
        self.measuring = False
        self.requests: dict[str, list[float]] = defaultdict(list)
        self.failures: dict[str, Counter] = defaultdict(Counter)
        self.replies: dict[str, list[float]] = defaultdict(list)
        self.read_model: list[tuple[float, float]] = []
        self.stream_visible: list[float] = []
        self.streamed: list[dict] = []
        self.polled: list[dict] = []
        self.errors: Counter = Counter()
        self.window = (0.0, 0.0)

    def begin(self) -> None:
        self.measuring = True
        self.window = (time.monotonic(), 0.0)

    def end(self) -> None:
        self.measuring = False
        self.window = (self.window[0], time.monotonic())

    def on_request(self, request_type, name, response_time, exception=None, response=None, **_):
        if not self.measuring:
            return
        key = f"{request_type} {name}"
        self.requests[key].append(response_time)
        if exception is not None:
            status = getattr(response, "status_code", None)
            self.failures[key][f"{status or ''} {type(exception).__name__}: {str(exception)[:120]}".strip()] += 1

    def reply(self, kind: str, seconds: float) -> None:
        if self.measuring:
            self.replies[kind].append(seconds * 1000)

    def polled_reply(self, instants: dict) -> None:
        """A polled reply's instants at the client ({task_id, sent, accepted, seen}, wall clock s) for
        `bench.waterfall`."""
        if self.measuring:
            self.polled.append(instants)

    def streamed_reply(self, kind: str, reply: dict) -> None:
        """A streamed reply ({id, task_id, sent, first_delta, done}, monotonic seconds) for `bench.streaming`."""
        if self.measuring:
            self.replies[kind].append((reply["done"] - reply["sent"]) * 1000)
            self.streamed.append({"kind": kind, **reply})

    def error(self, what: str) -> None:
        if self.measuring:
            self.errors[what] += 1

    def result(self) -> dict:
        seconds = self.window[1] - self.window[0]
        answered = sum(len(v) for v in self.replies.values())
        return {
            "seconds": round(seconds, 2),
            "answered_messages": answered,
            "answered_per_s": round(answered / seconds, 2) if seconds else 0,
            "reply_latency": {kind: summary(values, seconds) for kind, values in self.replies.items()},
            "read_model_delay": {
                "upper_bound": summary([u * 1000 for u, _ in self.read_model], seconds),
                "lower_bound": summary([lo * 1000 for _, lo in self.read_model], seconds),
            },
            "stream_user_message_delay": summary([s * 1000 for s in self.stream_visible], seconds),
            "endpoints": {name: summary(values, seconds) for name, values in sorted(self.requests.items())},
            "request_failures": {name: dict(c) for name, c in self.failures.items()},
            "flow_errors": dict(self.errors),
            "streamed_replies": self.streamed,
            "polled_replies": self.polled,
        }


RECORDER = Recorder()


class ChatUser(FastHttpUser):
    abstract = True
    kind = "chat"

    def wait_time(self):
        return CONFIG["think_time"]

    def on_start(self):
        self.start_session()

    def start_session(self) -> bool:
        self.session_id = None
        self.sent = 0
        response = self.client.post(
            "/api/chat/start/",
            json={"chatbot_id": CONFIG["chatbot_id"], "page_context": {"product_name": "Bench", "price": "$1"}},
            name="/api/chat/start/",
        )
        if response.status_code != 201:
            RECORDER.error(f"start answered {response.status_code}")
            return False
        started = response.json()
        self.session_id = started["session_id"]
        self.auth = {"X-Session-Token": started["session_token"]} if started["session_token"] else {}
        return True

    def ensure_session(self) -> bool:
        if self.session_id is None or self.sent >= CONFIG["messages_per_session"]:
            self.close_session()
            return self.start_session()
        return True

    def close_session(self) -> None:
        pass

    def send(self, text: str, name: str = "/api/chat/[sid]/message/") -> str | None:
        response = self.client.post(
            f"/api/chat/{self.session_id}/message/", json={"message": text}, headers=self.auth, name=name
        )
        if response.status_code != 202:
            RECORDER.error(f"message answered {response.status_code}")
            return None
        self.sent += 1
        return response.json()["task_id"]


class WidgetPollUser(ChatUser):
    """A widget that polls the task until the reply is there."""

    @task
    def converse(self):
        if not self.ensure_session():
            return
        began, sent_at = time.perf_counter(), time.time()
        task_id = self.send(f"poll user {uuid4().hex}")
        if task_id is None:
            return
        accepted_at = time.time()
        deadline = began + CONFIG["reply_timeout_s"]
        while True:
            response = self.client.get(
                f"/api/chat/{self.session_id}/{task_id}/poll/",
                headers=self.auth,
                name="/api/chat/[sid]/[task_id]/poll/",
            )
            if response.status_code != 200:
                RECORDER.error(f"task poll answered {response.status_code}")
                return
            status = response.json().get("status")
            if status == "complete":
                RECORDER.reply("poll", time.perf_counter() - began)
                RECORDER.polled_reply(
                    {"task_id": task_id, "sent": sent_at, "accepted": accepted_at, "seen": time.time()}
                )
                return
            if status != "processing":
                RECORDER.error(f"task ended {status}")
                return
            if time.perf_counter() > deadline:
                RECORDER.error("reply timeout")
                return
            gevent.sleep(CONFIG["poll_interval"])


class WidgetStreamUser(ChatUser):
    """A widget that waits on the session's server-sent events instead of polling."""

    def start_session(self) -> bool:
        self.pending: dict[str, dict] = {}
        self.stream = None
        self.reader = None
        self.opened = gevent.event.Event()  # the stream's headers arrived: it follows the session
        if not super().start_session():
            return False
        self.reader = gevent.spawn(self.read_stream, self.session_id, dict(self.auth))
        return True

    def close_session(self) -> None:
        if self.reader is not None:
            self.reader.kill(block=False)
        if self.stream is not None:
            self.stream.close()

    def on_stop(self):
        self.close_session()

    def read_stream(self, session_id: str, auth: dict) -> None:
        began = time.perf_counter()
        name = "/api/chat/[sid]/stream/ (open)"
        try:
            self.stream = requests.get(
                f"{self.host}/api/chat/{session_id}/stream/", headers=auth, stream=True, timeout=(5, 120)
            )
        except requests.RequestException as exc:
            events.request.fire(request_type="GET", name=name, response_time=0, response_length=0, exception=exc)
            return
        opened = (time.perf_counter() - began) * 1000
        failed = None if self.stream.status_code == 200 else Exception(f"status {self.stream.status_code}")
        events.request.fire(request_type="GET", name=name, response_time=opened, response_length=0, exception=failed)
        if failed:
            return
        self.opened.set()
        try:
            for line in self.stream.iter_lines(chunk_size=4096, decode_unicode=True):
                if line and line.startswith("data: "):
                    self.on_message(json.loads(line[6:]))
        except (requests.RequestException, AttributeError, ValueError):
            pass  # closed when the session changes or the user stops

    def on_message(self, message: dict) -> None:
        now = time.monotonic()
        waiting = self.pending.get(message_id(message.get("content")))
        if waiting is None:
            return
        if message.get("role") == "user":
            accepted = waiting.get("accepted")
            if accepted and RECORDER.measuring:
                RECORDER.stream_visible.append(now - accepted)
        elif message.get("role") == "assistant":
            waiting["replied_at"] = now
            waiting["replied"].set()

    @task
    def converse(self):
        if not self.ensure_session():
            return
        message = uuid4().hex
        waiting = self.pending[message] = {"replied": gevent.event.Event()}
        began = time.monotonic()
        task_id = self.send(f"stream user {message}")
        if task_id is not None:
            waiting["accepted"] = time.monotonic()
            if waiting["replied"].wait(CONFIG["reply_timeout_s"]):
                self.replied(message, task_id, began, waiting["replied_at"])
            else:
                RECORDER.error("reply timeout (stream)")
        del self.pending[message]

    def replied(self, message: str, task_id: str, began: float, replied_at: float) -> None:
        RECORDER.reply("stream", replied_at - began)


class StreamingWidgetUser(WidgetStreamUser):
    """A widget that shows each reply as it is generated, from the stream's `delta` events."""

    def start_session(self) -> bool:
        self.first_deltas: dict[str, float] = {}  # task id -> when its first delta arrived
        return super().start_session()

    def send(self, text: str, name: str = "/api/chat/[sid]/message/") -> str | None:
        # A stream sends its headers with its first event: until then it may not follow the session yet, and the
        # first delta of a reply that begins before it does is one catch-up delta, late by the stream's opening.
        self.stream_open_at_send = self.opened.is_set()
        return super().send(text, name)

    def on_message(self, message: dict) -> None:
        if "delta" in message:
            self.first_deltas.setdefault(message["task_id"], time.monotonic())
        else:
            super().on_message(message)

    def replied(self, message: str, task_id: str, began: float, replied_at: float) -> None:
        first_delta = self.first_deltas.pop(task_id, None)
        reply = {"id": message, "task_id": task_id, "sent": began, "first_delta": first_delta, "done": replied_at}
        RECORDER.streamed_reply("sse", {**reply, "stream_open_at_send": self.stream_open_at_send})


class CompletionUser(FastHttpUser):
    """A service asking the chatbot for chat completions with its API key, one conversation per request."""

    path_name = "/api/openai/[chatbot]/chat/completions"

    def wait_time(self):
        return CONFIG["think_time"]

    def on_start(self):
        self.path = f"/api/openai/{CONFIG['chatbot_id']}/chat/completions"
        self.headers = {"X-api-key": CONFIG["api_key"]}
        self.streams = requests.Session()

    def on_stop(self):
        self.streams.close()

    @task
    def complete(self):
        message = uuid4().hex
        body = {"messages": [{"role": "user", "content": f"completion user {message}"}]}
        if CONFIG["stream_replies"]:
            self.stream(message, {**body, "stream": True})
            return
        began = time.monotonic()
        response = self.client.post(self.path, json=body, headers=self.headers, name=self.path_name)
        if response.status_code == 200:
            RECORDER.reply("completion", time.monotonic() - began)
        else:
            RECORDER.error(f"completion answered {response.status_code}")

    def stream(self, message: str, body: dict) -> None:
        name = f"{self.path_name} (stream)"
        began = time.monotonic()
        first_delta = None
        try:
            with self.streams.post(
                self.host + self.path, json=body, headers=self.headers, stream=True, timeout=CONFIG["reply_timeout_s"]
            ) as response:
                opened = (time.monotonic() - began) * 1000
                failed = None if response.status_code == 200 else Exception(f"status {response.status_code}")
                events.request.fire(
                    request_type="POST", name=name, response_time=opened, response_length=0, exception=failed
                )
                if failed:
                    return
                for line in response.iter_lines(chunk_size=4096, decode_unicode=True):
                    if line == "data: [DONE]":
                        reply = {"id": message, "task_id": None, "sent": began, "first_delta": first_delta}
                        RECORDER.streamed_reply("completion-stream", {**reply, "done": time.monotonic()})
                        return
                    if first_delta is None and line.startswith("data: ") and chunk_content(json.loads(line[6:])):
                        first_delta = time.monotonic()
        except requests.RequestException as exc:
            events.request.fire(request_type="POST", name=name, response_time=0, response_length=0, exception=exc)
            return
        RECORDER.error("completion stream ended without [DONE]")


def chunk_content(chunk: dict) -> str:
    choices = chunk.get("choices") or [{}]
    return (choices[0].get("delta") or {}).get("content") or ""


class ApiReader(FastHttpUser):
    """A team's service reading sessions back with its API key."""

    def wait_time(self):
        return CONFIG["api_think_s"]

    @task
    def read_sessions(self):
        headers = {"X-api-key": CONFIG["api_key"]}
        response = self.client.get("/api/sessions/", headers=headers, name="/api/sessions/")
        if response.status_code != 200:
            return
        results = response.json()["results"]
        if results:
            session_id = results[int(time.monotonic() * 1000) % len(results)]["id"]
            self.client.get(f"/api/sessions/{session_id}/", headers=headers, name="/api/sessions/[id]/")


class ReadModelProbe(ChatUser):
    """Measures how long a sent message takes to show in the session's message poll (the read model)."""

    wait_time = constant(0)

    def on_start(self):
        self.since = None
        self.start_session()

    @task
    def probe(self):
        gevent.sleep(CONFIG["probe_every_s"])
        if not self.ensure_session():
            self.since = None
            return
        text = f"probe {uuid4().hex}"
        if self.send(text, name="/api/chat/[sid]/message/ (probe)") is None:
            return
        accepted = last_miss = time.perf_counter()
        deadline = accepted + CONFIG["reply_timeout_s"]
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            query = f"?{urlencode({'since': self.since})}" if self.since else ""
            response = self.client.get(
                f"/api/chat/{self.session_id}/poll/{query}",
                headers=self.auth,
                name="/api/chat/[sid]/poll/ (probe)",
            )
            ended = time.perf_counter()
            if response.status_code != 200:
                RECORDER.error(f"message poll answered {response.status_code}")
                return
            messages = response.json()["messages"]
            if messages:
                self.since = messages[-1]["created_at"]
            if any(m["content"] == text for m in messages):
                if RECORDER.measuring:
                    RECORDER.read_model.append((ended - accepted, last_miss - accepted))
                return
            last_miss = began
            gevent.sleep(CONFIG["probe_interval_s"])
        RECORDER.error("probe message never visible")


def user_classes() -> list:
    counts = {
        StreamingWidgetUser if CONFIG["stream_replies"] else WidgetPollUser: CONFIG["users"],
        CompletionUser: CONFIG["completion_users"],
        WidgetStreamUser: CONFIG["stream_users"],
        ApiReader: CONFIG["api_users"],
        ReadModelProbe: 1 if CONFIG["probe"] else 0,
    }
    classes = []
    for cls, count in counts.items():
        if count:
            cls.fixed_count = count
            classes.append(cls)
    return classes


def main(config_path: str, result_path: str) -> int:
    CONFIG.update(json.loads(open(config_path).read()))
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    classes = user_classes()
    env = Environment(user_classes=classes, host=CONFIG["host"], events=events)
    env.events.request.add_listener(RECORDER.on_request)
    runner = env.create_local_runner()
    total = sum(cls.fixed_count for cls in classes)
    runner.start(total, spawn_rate=CONFIG["spawn_rate"])
    print("LOAD_START", flush=True)
    gevent.sleep(CONFIG["warmup_s"])
    RECORDER.begin()
    print("MEASURE_START", flush=True)
    gevent.sleep(CONFIG["duration_s"])
    RECORDER.end()
    print("MEASURE_END", flush=True)
    runner.quit()
    result = RECORDER.result()
    result["users"] = {cls.__name__: cls.fixed_count for cls in classes}
    with open(result_path, "w") as file:
        json.dump(result, file, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
