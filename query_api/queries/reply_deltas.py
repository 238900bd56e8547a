"""Replies while they are generated, for the chat streams of one API process: one follower of the reply-deltas
topic (`schemas/reply_deltas.py`) per process, however many streams are open, as the change feeds serve stored
messages.

The follower keeps each reply that is still being generated (its text so far), so that a stream that opens in the
middle of a reply first gets one delta with all of it. It runs while streams are open (and LINGER_S after the last
closes); when it starts, it reads back the last REPLAY_RECORDS records of each partition, which holds every reply
begun in the last moments, before any stream is given the text so far."""

import json
import logging
import threading
import time
from collections import defaultdict
from dataclasses import dataclass

from kafka import KafkaConsumer, TopicPartition

from infra.kafka import CLIENT_METRICS, ensure_topics
from schemas.reply_deltas import REPLY_DELTAS_TOPIC

log = logging.getLogger(__name__)

REPLAY_RECORDS = 1000
CATCH_UP_WAIT_S = 2.0
LINGER_S = 30.0
# A reply whose worker died mid-way never finishes: its text is forgotten after this long without a delta.
FORGET_AFTER_S = 600.0
IDLE_SLEEP_MIN_S = 0.002
IDLE_SLEEP_MAX_S = 0.02
RETRY_S = 1.0


@dataclass(frozen=True)
class Delta:
    """Text to add to task `task_id`'s reply: what it holds from character `offset` on is `text`."""

    task_id: str
    offset: int
    text: str


@dataclass
class InProgress:
    session_id: str
    text: str
    updated_at: float


class DeltaFeed:
    """`partitions`: the topic's, should this process be the first to need it."""

    def __init__(self, bootstrap: str, partitions: int):
        self.bootstrap = bootstrap
        self.partitions = partitions
        self.lock = threading.Lock()
        self.subscribers: dict[str, set] = defaultdict(set)  # session id -> its streams' subscriptions
        self.replies: dict[str, dict[str, InProgress]] = defaultdict(dict)  # session id -> task id -> reply
        self.follower: threading.Thread | None = None
        self.subscribing = 0  # streams waiting to subscribe: the follower must not stop under them
        self.caught_up = threading.Event()
        self.last_subscriber_left = time.monotonic()
        self.stopped = False

    def subscribe(self, session_id: str, subscription) -> None:
        """From now on `subscription` gets (by `push`) the deltas of the session's replies, the text so far of
        each reply being generated first."""
        with self.lock:
            self.subscribing += 1
            if self.follower is None:
                self.follower = threading.Thread(target=self.follow, name="reply-deltas", daemon=True)
                self.follower.start()
        try:
            if not self.caught_up.wait(CATCH_UP_WAIT_S):
                log.warning("the reply deltas are not caught up: a stream starts without the replies' text so far")
            with self.lock:
                self.subscribers[session_id].add(subscription)
                for task_id, reply in self.replies.get(session_id, {}).items():
                    subscription.push(Delta(task_id, 0, reply.text))
        finally:
            with self.lock:
                self.subscribing -= 1

    def unsubscribe(self, session_id: str, subscription) -> None:
        with self.lock:
            subscribers = self.subscribers.get(session_id)
            if subscribers is not None:
                subscribers.discard(subscription)
                if not subscribers:
                    del self.subscribers[session_id]
            if not self.subscribers:
                self.last_subscriber_left = time.monotonic()

    def close(self) -> None:
        self.stopped = True
        if self.follower is not None:
            self.follower.join(5)

    def follow(self) -> None:
        while True:
            try:
                self.follow_until_idle()
            except Exception as exc:  # whatever the broker does, the streams go on (with stored messages only)
                log.warning("the reply deltas could not be followed: %r; trying again", exc)
                time.sleep(RETRY_S)
                continue
            with self.lock:
                if (self.subscribers or self.subscribing) and not self.stopped:
                    continue  # a stream opened as the follower was stopping
                self.follower = None
                self.caught_up.clear()
                self.replies.clear()
                return

    def follow_until_idle(self) -> None:
        # The local broker makes a topic a consumer asks about, with its own default width: make it first.
        ensure_topics(self.bootstrap, [REPLY_DELTAS_TOPIC], self.partitions)
        consumer = KafkaConsumer(
            bootstrap_servers=self.bootstrap,
            enable_auto_commit=False,
            allow_auto_create_topics=False,
            metrics_enabled=CLIENT_METRICS,
        )
        try:
            numbers = consumer.partitions_for_topic(REPLY_DELTAS_TOPIC) or ()
            partitions = [TopicPartition(REPLY_DELTAS_TOPIC, number) for number in sorted(numbers)]
            consumer.assign(partitions)
            ends = consumer.end_offsets(partitions)
            begins = consumer.beginning_offsets(partitions)
            for tp in partitions:
                consumer.seek(tp, max(begins[tp], ends[tp] - REPLAY_RECORDS))
            idle_sleep = IDLE_SLEEP_MIN_S
            while not self.stopped and not self.idle():
                batches = consumer.poll(timeout_ms=1)
                for records in batches.values():
                    for record in records:
                        self.apply_record(record.value)
                if not self.caught_up.is_set() and all(consumer.position(tp) >= ends[tp] for tp in partitions):
                    self.forget_stale()
                    self.caught_up.set()
                if batches:
                    idle_sleep = IDLE_SLEEP_MIN_S
                else:
                    time.sleep(idle_sleep)
                    idle_sleep = min(idle_sleep * 2, IDLE_SLEEP_MAX_S)
                    self.forget_stale()
        finally:
            consumer.close()

    def idle(self) -> bool:
        with self.lock:
            waited = time.monotonic() - self.last_subscriber_left > LINGER_S
            return not self.subscribers and not self.subscribing and waited

    def apply_record(self, value: bytes) -> None:
        try:
            self.apply(json.loads(value))
        except (ValueError, KeyError, TypeError) as exc:  # not a delta a worker of ours wrote: skipped
            log.warning("a record of %s is not a reply delta: %r", REPLY_DELTAS_TOPIC, exc)

    def apply(self, record: dict) -> None:
        """One record: passed on to the session's streams, and added to its reply's text so far (a reply whose
        beginning this process has not seen is passed on only)."""
        session_id, task_id, offset, text = record["session_id"], record["task_id"], record["offset"], record["delta"]
        with self.lock:
            replies = self.replies[session_id]
            reply = replies.get(task_id)
            if offset == 0:
                reply = replies[task_id] = InProgress(session_id, "", 0.0)
            elif reply is not None and offset != len(reply.text):
                reply = None
            if reply is None or record["done"]:
                replies.pop(task_id, None)
            else:
                reply.text += text
                reply.updated_at = time.monotonic()
            if not replies:
                del self.replies[session_id]
            if text:
                for subscription in self.subscribers.get(session_id, ()):
                    subscription.push(Delta(task_id, offset, text))

    def forget_stale(self) -> None:
        horizon = time.monotonic() - FORGET_AFTER_S
        with self.lock:
            for session_id in list(self.replies):
                replies = self.replies[session_id]
                for task_id in [task_id for task_id, reply in replies.items() if reply.updated_at < horizon]:
                    del replies[task_id]
                if not replies:
                    del self.replies[session_id]
