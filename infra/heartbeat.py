"""Heartbeats: each replica of each background component says it is alive, and how far it got, in a shared
collection that `/healthz` reads (one document per replica: `<component>@<instance id>`). Consumer-group members
also say which partitions they hold, so that partitions a dead replica held and no live one took are found.

A component that beats can still be stuck, and then says so: `failing_since` (it has been failing to do its
work since then) or `waiting_since` (it has held work it could not finish since then); the relay also beats
its log position, which `/healthz` holds against the end of the log.
"""

import logging
import os
import time
from datetime import datetime, timezone

from pymongo import WriteConcern
from pymongo.database import Database
from pymongo.errors import PyMongoError

from infra.instance import instance_id

log = logging.getLogger(__name__)

COLLECTION = "heartbeats"
INTERVAL_S = 1.0
# A component that has not beaten for this long is reported down.
STALE_AFTER_S = 10.0
# A component failing, or holding work it cannot finish, for this long is reported stuck (longer than a projector's
# bounded batch, and than the relay's retry after a broker restart).
STUCK_AFTER_S = 30.0


# A replica down this long is left out of the report: it was scaled down or replaced, and its partitions, if it
# held any, are reported on their own while no live replica has taken them.
FORGOTTEN_AFTER_S = 600.0


class Heartbeat:
    def __init__(self, db: Database, component: str):
        self.collection = db[COLLECTION]
        self.journaled = self.collection.with_options(write_concern=WriteConcern(j=True))
        self.component = component
        self.instance = instance_id()
        self.id = f"{component}@{self.instance}"
        self.last = 0.0

    def beat(self, **progress) -> None:
        now = time.monotonic()
        if now - self.last < INTERVAL_S:
            return
        self.last = now
        try:
            at = datetime.now(timezone.utc).timestamp()
            beat = {"component": self.component, "instance": self.instance, "at": at, "pid": os.getpid(), **progress}
            self.collection.update_one({"_id": self.id}, {"$set": beat}, upsert=True)
        except PyMongoError as exc:  # being unable to say "alive" must not stop the work itself
            log.warning("heartbeat of %s not recorded: %s", self.component, exc)

    def stored(self) -> dict | None:
        """The last heartbeat under this replica's name: a predecessor's, before this one beats (None if unreadable:
        MongoDB down as the replica starts)."""
        try:
            return self.collection.find_one({"_id": self.id})
        except PyMongoError as exc:
            log.warning("the last heartbeat of %s is unreadable: %s", self.component, exc)
            return None

    def journal(self) -> None:
        """Make every write this replica made so far durable: one write to its heartbeat that the server acknowledges
        only once its journal holds it, and the journal is written in order, so it then holds every write before it
        too. A MongoDB server acknowledges a write before its journal is on disk (mongod flushes it every 100 ms;
        the local server when it gets to it), and a kill -9 in between loses the write. A consumer calls this before
        committing offsets past what it wrote: otherwise it would never write it again (seen: a projector's usage
        transaction acknowledged just before the local server was killed was gone after its restart, and that
        session's usage stopped counting for good). Raises, as any write does, when the server is unreachable."""
        self.journaled.update_one({"_id": self.id}, {"$inc": {"journaled": 1}}, upsert=True)


def end_transaction_of(db: Database, beat: dict | None) -> None:
    """End the MongoDB session a replica's heartbeat names (`session`), and with it any transaction the replica, now
    gone, left open: the server would keep its writes locked until it reaps it (after a minute on mongod, whose
    `transactionLifetimeLimitSeconds` is 60, and on the local server), and every transaction that writes the same
    documents waits meanwhile (seen: a projector killed in the middle of counting stopped the other one for 30-60 s,
    since both increment a team's usage counters)."""
    if beat is None or not beat.get("session"):
        return
    try:
        db.client.admin.command("killSessions", [beat["session"]])
    except PyMongoError as exc:
        log.warning("could not end the session of %s: %s", beat.get("instance"), exc)


def heartbeats(db: Database, components) -> dict[str, list[dict]]:
    """The last heartbeat of each replica of these components, by component."""
    found: dict[str, list[dict]] = {component: [] for component in components}
    for doc in db[COLLECTION].find({"component": {"$in": list(components)}}):
        found[doc["component"]].append(doc)
    return found


def status_of(beat: dict | None, now: float, log_end: int) -> tuple[str, str | None]:
    """A component's (status, why): `ok`, `down` (no heartbeat for STALE_AFTER_S), or `stuck`. `log_end`: the event
    store's last log position, which a component beating a log position (the relay) is held against."""
    if beat is None or now - beat["at"] >= STALE_AFTER_S:
        return "down", f"no heartbeat for {STALE_AFTER_S:.0f} s"
    for field, doing in (("failing_since", "failing"), ("waiting_since", "holding work it cannot finish")):
        since = beat.get(field)
        if since is not None and now - since > STUCK_AFTER_S:
            return "stuck", f"{doing} for {now - since:.0f} s"
    progressed_at = beat.get("progressed_at")
    if "position" in beat and beat["position"] < log_end and progressed_at and now - progressed_at > STUCK_AFTER_S:
        return "stuck", f"at log position {beat['position']} of {log_end} for {now - progressed_at:.0f} s"
    return "ok", None
