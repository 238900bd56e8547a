"""New messages for every open message stream of an API process, from one MongoDB change stream.

A stream used to ask MongoDB for its session's new messages every 50 ms by itself, and a stream whose client
had gone on kept asking until its next keepalive showed the connection closed (up to 15 s): under the chat
benchmark those reads were over 40 % of the local MongoDB server's work. Now, while any stream is open, one
thread per process watches the messages collection's inserts and hands each message to the streams of its
session; a stream reads MongoDB itself only to catch up when it opens. The cost follows the rate of new
messages, not the number of open streams. (Change streams need a replica set: production's is one, and the
local MongoDB-protocol server presents itself as one.)

A stream never misses a message: the change stream is open before a stream reads its history, what arrives
while it catches up is held back and then given in order, and after the change stream fails every stream
catches up again from its last message. Per-session order is the projection's: one session's messages are
projected one after the other in `created_at` order, so "newer than the last one given" skips nothing.
"""

import logging
import threading
from collections import defaultdict

from pymongo.collection import Collection
from pymongo.errors import PyMongoError

log = logging.getLogger(__name__)

AWAIT_MS = 250
RETRY_S = 1.0


class Subscription:
    """One stream's place in its session: `last` is the `created_at` of the last message it was given."""

    def __init__(self, session_id: str, last: str | None):
        self.session_id = session_id
        self.last = last
        self.catching_up = True
        self.held: list[dict] = []  # arrived on the change stream while catching up
        self.arrived: list[dict] = []
        self.ready = threading.Condition()

    def wait(self, timeout_s: float) -> list[dict]:
        """The messages that arrived since the last call, waiting up to `timeout_s` for some."""
        with self.ready:
            if not self.arrived:
                self.ready.wait(timeout_s)
            arrived, self.arrived = self.arrived, []
            return arrived

    def offer(self, doc: dict) -> None:
        with self.ready:
            if self.catching_up:
                self.held.append(doc)
            else:
                self.give([doc])

    def caught_up(self, history: list[dict], complete: bool) -> None:
        """`complete`: the history was read while the change stream that is open now was already open, so
        together they hold every message; otherwise what arrives stays held until a complete catch-up."""
        with self.ready:
            self.give(history)
            if complete:
                self.give(sorted(self.held, key=lambda doc: doc["created_at"]))
                self.held, self.catching_up = [], False

    def hold(self) -> None:
        with self.ready:
            self.catching_up = True

    def give(self, docs: list[dict]) -> None:
        """Call with `ready` held."""
        newer = []
        for doc in docs:
            if self.last is None or doc["created_at"] > self.last:
                newer.append(doc)
                self.last = doc["created_at"]
        if newer:
            self.arrived.extend(newer)
            self.ready.notify()


class MessageFeed:
    def __init__(self, messages: Collection):
        self.messages = messages
        self.by_session: dict[str, set[Subscription]] = defaultdict(set)
        self.lock = threading.Condition()
        self.watching = threading.Event()  # a change stream is open
        self.generation = 0  # how many change streams have been opened
        self.stopped = False
        self.watcher: threading.Thread | None = None

    def subscribe(self, session_id: str, since: str | None) -> Subscription:
        subscription = Subscription(session_id, since)
        with self.lock:
            self.by_session[session_id].add(subscription)
            if self.watcher is None:
                self.watcher = threading.Thread(target=self.watch_until_closed, name="message-feed", daemon=True)
                self.watcher.start()
            self.lock.notify_all()
        # The history is read only once the change stream is open, so that no message falls between the two.
        if self.watching.wait(5):
            with self.lock:
                generation = self.generation
            self.catch_up(subscription, generation)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self.lock:
            subscribers = self.by_session.get(subscription.session_id)
            if subscribers is not None:
                subscribers.discard(subscription)
                if not subscribers:
                    del self.by_session[subscription.session_id]

    def close(self) -> None:
        with self.lock:
            self.stopped = True
            self.lock.notify_all()
        if self.watcher is not None:
            self.watcher.join(5)

    def catch_up(self, subscription: Subscription, generation: int) -> None:
        query: dict = {"session_id": subscription.session_id}
        if subscription.last is not None:
            query["created_at"] = {"$gt": subscription.last}
        try:
            history = list(self.messages.find(query).sort("created_at", 1))
        except PyMongoError as exc:
            log.warning("message stream of session %s could not catch up: %s", subscription.session_id, exc)
            return  # it stays held; the watcher catches it up when it next opens a change stream
        with self.lock:
            subscription.caught_up(history, self.watching.is_set() and self.generation == generation)

    def subscriptions(self) -> list[Subscription]:
        """Call with `lock` held."""
        return [subscription for subscribers in self.by_session.values() for subscription in subscribers]

    def watch_until_closed(self) -> None:
        failed = False
        while True:
            with self.lock:
                if not failed:
                    while not self.by_session and not self.stopped:
                        self.lock.wait()
                if self.stopped:
                    return
            try:
                pipeline = [{"$match": {"operationType": "insert"}}]
                with self.messages.watch(pipeline, max_await_time_ms=AWAIT_MS) as changes:
                    with self.lock:
                        self.generation += 1
                        generation = self.generation
                        self.watching.set()
                        behind = [subscription for subscription in self.subscriptions() if subscription.catching_up]
                    for subscription in behind:
                        self.catch_up(subscription, generation)
                    self.deliver(changes)
                failed = False
            except PyMongoError as exc:
                log.warning("message feed's change stream failed, reopening: %s", exc)
                failed = True
            with self.lock:
                # Without a change stream, nothing may be given until each stream has caught up again.
                self.watching.clear()
                for subscription in self.subscriptions():
                    subscription.hold()
                if failed:
                    self.lock.wait(RETRY_S)

    def deliver(self, changes) -> None:
        """Until no stream is open or the feed is closed."""
        while changes.alive:
            with self.lock:
                if self.stopped or not self.by_session:
                    return
            change = changes.try_next()
            if change is None:
                continue
            doc = change["fullDocument"]
            with self.lock:
                subscribers = list(self.by_session.get(doc["session_id"], ()))
            for subscription in subscribers:
                subscription.offer(doc)
