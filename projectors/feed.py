"""The feed writer: copies the event store's log, in log order, into each team's event feed (`GET /api/events/`).

It does not consume Kafka, as the other projections do: a projector applies the partitions it holds as they come,
so one team's events reach the read models in an order that may not be the log's (position 12 on one partition
before position 10 on another), and a feed follower who had seen 12 would never see 10. Read from the log by one
writer, the feed only ever grows at its end: every event a reader sees has every earlier one of its team before
it. The log is read through `read_log(after, limit)`, which the composition root gives (the event store's
`log_entries`); the writer keeps its place in MongoDB, and a restart re-writes at most one batch (duplicates
are skipped). The place is written journaled after the batch's entries (which are not): the journal is written in
order, so once the place is durable its entries are too, at one journal flush a batch. Events that cannot be read
back are left out, as the relay leaves them out of the topics.

Every entry is kept unless a retention window is configured (`OCS_EVENT_FEED_RETENTION_DAYS`): then, every
`prune_every_s`, the writer deletes the entries that occurred before the window, by an indexed range of their instant.
A reader's cursor older than the oldest entry kept simply starts at the oldest kept.
"""

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from pymongo import WriteConcern
from pymongo.database import Database

from infra.heartbeat import Heartbeat
from projectors.projections.event_feed import feed_entry
from projectors.runner import write_in_order
from schemas.read_models import EVENTS

log = logging.getLogger(__name__)

PROGRESS = "feed_progress"
# Says whether `rebuild-read-models` is refilling the feeds (they then hold a rebuilt beginning and the newest
# events, with a gap between that a follower must not read past), and how many refills have begun (`feed_state`).
REFILLING = "refilling"
BATCH = 500
IDLE_SLEEP_S = 0.005
RETRY_SLEEP_S = 0.5
# Expired entries are at most this late to go: one cheap delete a minute, whatever the write rate.
PRUNE_EVERY_S = 60.0


def feed_state(db: Database) -> tuple[int, int] | None:
    """(the last log position copied into the feeds, the refills begun so far), or None while a rebuild refills
    them. A follower that must not skip an event reads it before and after each read of a feed: equal states mean
    no refill happened in between."""
    docs = {doc["_id"]: doc for doc in db[PROGRESS].find({"_id": {"$in": [EVENTS, REFILLING]}})}
    refill = docs.get(REFILLING, {})
    if refill.get("refilling"):
        return None
    return docs.get(EVENTS, {}).get("position", 0), refill.get("refills", 0)


def feed_writes(envelopes) -> list:
    return [write for envelope in envelopes for _, write in feed_entry(envelope)]


class FeedWriter:
    def __init__(
        self,
        db: Database,
        read_log: Callable[[int, int], list[tuple[dict, str | None]]],
        heartbeat: Heartbeat,
        retention: timedelta | None = None,
        prune_every_s: float = PRUNE_EVERY_S,
    ):
        """`retention`: how long an entry is kept after its event occurred; None keeps every entry."""
        self.db = db
        self.progress = db[PROGRESS].with_options(write_concern=WriteConcern(j=True))
        self.read_log = read_log
        self.heartbeat = heartbeat
        self.retention = retention
        self.prune_every_s = prune_every_s
        self.pruned_at: float | None = None  # time.monotonic() of the last prune
        self.position: int | None = None
        self.failing_since: float | None = None

    def run(self, stop: threading.Event) -> None:
        progressed_at = time.time()
        while not stop.is_set():
            try:
                written = self.write_once()
                self.prune_when_due()
                self.failing_since, progressed_at = None, time.time()
            except Exception as exc:  # MongoDB or the event store unreachable, busy or failing: never stop the feed
                log.warning("the event feed could not be written: %s; trying again", exc)
                self.failing_since = self.failing_since or time.time()
                self.position = None  # read it again, once MongoDB answers
                stop.wait(RETRY_SLEEP_S)
                written = BATCH
            # As the relay's: `/healthz` holds the position against the end of the log.
            beat = {"position": self.position or 0, "progressed_at": progressed_at, "failing_since": self.failing_since}
            self.heartbeat.beat(**beat)
            if written < BATCH:
                stop.wait(IDLE_SLEEP_S)

    def write_once(self) -> int:
        """Copy the next batch of the log into the feed; how many log entries it read."""
        if self.position is None:
            doc = self.db[PROGRESS].find_one({"_id": EVENTS})
            self.position = doc["position"] if doc else 0
        entries = self.read_log(self.position, BATCH)
        if not entries:
            return 0
        writes = feed_writes(envelope for envelope, unreadable in entries if unreadable is None)
        if writes:
            write_in_order(self.db[EVENTS], writes)
        self.position = entries[-1][0]["position"]
        self.progress.update_one({"_id": EVENTS}, {"$set": {"position": self.position}}, upsert=True)
        return len(entries)

    def prune_when_due(self) -> None:
        if self.retention is None:
            return
        if self.pruned_at is None or time.monotonic() - self.pruned_at >= self.prune_every_s:
            self.prune(datetime.now(timezone.utc))
            self.pruned_at = time.monotonic()

    def prune(self, now: datetime) -> int:
        """Delete the entries of events that occurred before `now` minus the retention window; how many."""
        return self.db[EVENTS].delete_many({"occurred_at": {"$lt": now - self.retention}}).deleted_count
