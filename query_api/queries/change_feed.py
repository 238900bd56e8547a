"""New documents for every open stream of an API process, from one MongoDB change stream per collection: the
messages of a session for its message stream, the events of a team for its event stream.

A stream used to ask MongoDB for its session's new messages every 50 ms by itself, and a stream whose client
had gone on kept asking until its next keepalive showed the connection closed (up to 15 s): under the chat
benchmark those reads were over 40 % of the local MongoDB server's work. Now, while any stream is open, one
thread per process watches the messages collection's inserts and hands each message to the streams of its
session; a stream reads MongoDB itself only to catch up when it opens. The cost follows the rate of new
messages, not the number of open streams. (Change streams need a replica set: production's is one, and the
local MongoDB-protocol server presents itself as one.)

A stream never misses a document: the change stream is open before a stream reads its history, what arrives
while it catches up is held back and then given in order, and after the change stream fails every stream
catches up again from its last document. Order is the projection's: one session's messages are projected one
after the other in `created_at` order, and a team's events in `position` order (the projector applies a team's
events of one partition in log order, and its batches in order), so "newer than the last one given" skips
nothing.
"""

import logging
import re
import threading
from collections import defaultdict

from pymongo.collection import Collection
from pymongo.errors import PyMongoError

log = logging.getLogger(__name__)

AWAIT_MS = 250
RETRY_S = 1.0


class Subscription:
    """One stream's place among its key's documents (a session's messages, a team's events): `last` is the order
    field's value of the last one it was given; `only`: a query the documents it wants also match."""

    def __init__(self, key: str, last, order: str, only: dict | None = None):
        self.key = key
        self.last = last
        self.order = order
        self.only = only or {}
        self.catching_up = True
        self.held: list[dict] = []  # arrived on the change stream while catching up
        self.held_pushed: list = []  # pushed while catching up
        self.arrived: list = []
        self.ready = threading.Condition()

    def wait(self, timeout_s: float) -> list[dict]:
        """The messages that arrived since the last call, waiting up to `timeout_s` for some."""
        with self.ready:
            if not self.arrived:
                self.ready.wait(timeout_s)
            arrived, self.arrived = self.arrived, []
            return arrived

    def offer(self, doc: dict) -> None:
        if not matches(doc, self.only):
            return
        with self.ready:
            if self.catching_up:
                self.held.append(doc)
            else:
                self.give([doc])

    def push(self, item) -> None:
        """Something for the stream besides its documents (a reply's delta), given in the order pushed, after the
        documents it has caught up with."""
        with self.ready:
            if self.catching_up:
                self.held_pushed.append(item)
            else:
                self.arrived.append(item)
                self.ready.notify()

    def caught_up(self, history: list[dict], complete: bool) -> None:
        """`complete`: the history was read while the change stream that is open now was already open, so
        together they hold every message; otherwise what arrives stays held until a complete catch-up."""
        with self.ready:
            self.give(history)
            if complete:
                self.give(sorted(self.held, key=lambda doc: doc[self.order]))
                self.arrived.extend(self.held_pushed)
                self.held, self.held_pushed, self.catching_up = [], [], False

    def hold(self) -> None:
        with self.ready:
            self.catching_up = True

    def give(self, docs: list[dict]) -> None:
        """Call with `ready` held."""
        newer = []
        for doc in docs:
            if self.last is None or doc[self.order] > self.last:
                newer.append(doc)
                self.last = doc[self.order]
        if newer:
            self.arrived.extend(newer)
            self.ready.notify()


def matches(doc: dict, only: dict) -> bool:
    """Whether a document matches the few query forms streams filter by: a value, `$in`, and `$or` of those."""
    for field, wanted in only.items():
        if field == "$or":
            if not any(matches(doc, part) for part in wanted):
                return False
        elif isinstance(wanted, dict) and "$in" in wanted:
            if doc.get(field) not in wanted["$in"]:
                return False
        elif isinstance(wanted, dict) and "$regex" in wanted:
            if not isinstance(doc.get(field), str) or not re.match(wanted["$regex"], doc[field]):
                return False
        elif doc.get(field) != wanted:
            return False
    return True


class ChangeFeed:
    """`key`: the field whose value a stream follows; `order`: the field its documents are given in order of."""

    def __init__(self, collection: Collection, key: str, order: str):
        self.collection = collection
        self.key_field = key
        self.order = order
        self.by_key: dict[str, set[Subscription]] = defaultdict(set)
        self.lock = threading.Condition()
        self.watching = threading.Event()  # a change stream is open
        self.generation = 0  # how many change streams have been opened
        self.stopped = False
        self.watcher: threading.Thread | None = None

    def subscribe(self, key: str, since, only: dict | None = None) -> Subscription:
        subscription = Subscription(key, since, self.order, only)
        with self.lock:
            self.by_key[key].add(subscription)
            if self.watcher is None:
                name = f"{self.collection.name}-feed"
                self.watcher = threading.Thread(target=self.watch_until_closed, name=name, daemon=True)
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
            subscribers = self.by_key.get(subscription.key)
            if subscribers is not None:
                subscribers.discard(subscription)
                if not subscribers:
                    del self.by_key[subscription.key]

    def close(self) -> None:
        with self.lock:
            self.stopped = True
            self.lock.notify_all()
        if self.watcher is not None:
            self.watcher.join(5)

    def catch_up(self, subscription: Subscription, generation: int) -> None:
        query: dict = {**subscription.only, self.key_field: subscription.key}
        if subscription.last is not None:
            query[self.order] = {"$gt": subscription.last}
        try:
            history = list(self.collection.find(query).sort(self.order, 1))
        except PyMongoError as exc:
            log.warning("%s stream of %s could not catch up: %s", self.collection.name, subscription.key, exc)
            return  # it stays held; the watcher catches it up when it next opens a change stream
        with self.lock:
            subscription.caught_up(history, self.watching.is_set() and self.generation == generation)

    def subscriptions(self) -> list[Subscription]:
        """Call with `lock` held."""
        return [subscription for subscribers in self.by_key.values() for subscription in subscribers]

    def watch_until_closed(self) -> None:
        failed = False
        while True:
            with self.lock:
                if not failed:
                    while not self.by_key and not self.stopped:
                        self.lock.wait()
                if self.stopped:
                    return
            try:
                pipeline = [{"$match": {"operationType": "insert"}}]
                with self.collection.watch(pipeline, max_await_time_ms=AWAIT_MS) as changes:
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
                log.warning("%s feed's change stream failed, reopening: %s", self.collection.name, exc)
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
                if self.stopped or not self.by_key:
                    return
            change = changes.try_next()
            if change is None:
                continue
            doc = change["fullDocument"]
            with self.lock:
                subscribers = list(self.by_key.get(doc[self.key_field], ()))
            for subscription in subscribers:
                subscription.offer(doc)
