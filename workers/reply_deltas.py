"""A reply while it is generated: its text published in deltas on the reply-deltas topic (`schemas/reply_deltas.py`),
and whether its user asked to stop it.

A fast model must not cost a broker record per token: a reply's first piece is sent at once (what a user waits
for), and later ones at most every COALESCE_S, together. A delta that cannot be sent is logged and dropped, never
retried: deltas are transient, and the reply is recorded whole when it is complete."""

import json
import logging
import threading
import time

from kafka.errors import KafkaError

from command_api.domain.chat_session import ChatSession
from command_api.write_model.application import OcsApplication
from command_api.write_model.repository import load
from infra.kafka import make_producer
from schemas.reply_deltas import REPLY_DELTAS_TOPIC

log = logging.getLogger(__name__)

COALESCE_S = 0.05
# Deltas are worth little late: a send gives up on an unreachable broker this soon, and the reply goes on.
SEND_WAIT_MS = 1_000
# How often a reply being generated looks in the write model for its user's request to stop it.
CANCEL_CHECK_S = 0.2


class DeltaPublisher:
    """One producer per process, made on first use (an API process that only answers in the request never does)."""

    def __init__(self, bootstrap: str):
        self.bootstrap = bootstrap
        self.producer = None
        self.lock = threading.Lock()

    def send(self, record: dict) -> None:
        try:
            with self.lock:
                if self.producer is None:
                    self.producer = make_producer(self.bootstrap, encodes_envelopes=False, max_block_ms=SEND_WAIT_MS)
            value = json.dumps(record, ensure_ascii=False).encode()
            self.producer.send(REPLY_DELTAS_TOPIC, key=record["session_id"].encode(), value=value)
        except KafkaError as exc:
            log.warning("a delta of task %s was not published: %s", record["task_id"], exc)

    def reply(self, session_id: str, task_id: str) -> "ReplyDeltas":
        return ReplyDeltas(self, session_id, task_id)

    def close(self) -> None:
        if self.producer is not None:
            self.producer.close(timeout=2)


class ReplyDeltas:
    """One reply's deltas: `piece` as the text arrives, `finish` once it is complete."""

    def __init__(self, publisher: DeltaPublisher, session_id: str, task_id: str):
        self.publisher = publisher
        self.session_id = session_id
        self.task_id = task_id
        self.sent = 0  # characters published so far
        self.pending: list[str] = []
        self.sent_at = 0.0

    def piece(self, text: str) -> None:
        self.pending.append(text)
        if time.monotonic() - self.sent_at >= COALESCE_S:
            self.flush(done=False)

    def finish(self) -> None:
        self.flush(done=True)

    def flush(self, done: bool) -> None:
        delta = "".join(self.pending)
        record = {"session_id": self.session_id, "task_id": self.task_id, "offset": self.sent, "delta": delta}
        self.publisher.send({**record, "done": done})
        self.sent += len(delta)
        self.pending = []
        self.sent_at = time.monotonic()


class StopRequests:
    """Whether a task's user asked to stop its reply (`POST .../cancel/` records it on the write model), looked up
    at most every CANCEL_CHECK_S while the reply is generated."""

    def __init__(self, app: OcsApplication, session_id: str, task_id: str):
        self.app = app
        self.session_id = session_id
        self.task_id = task_id
        self.checked_at = time.monotonic()
        self.requested = False

    def __call__(self) -> bool:
        if not self.requested and time.monotonic() - self.checked_at >= CANCEL_CHECK_S:
            self.checked_at = time.monotonic()
            session = load(self.app, self.session_id, ChatSession)
            self.requested = session is not None and session.is_cancelling(self.task_id)
        return self.requested
