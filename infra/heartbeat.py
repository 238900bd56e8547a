"""Heartbeats: each background component says it is alive, and how far it got, in a shared collection
that `/healthz` reads.

A component that beats can still be stuck, and then says so: `failing_since` (it has been failing to do its
work since then) or `waiting_since` (it has held work it could not finish since then); the relay also beats
its log position, which `/healthz` holds against the end of the log.
"""

import logging
import os
import time
from datetime import datetime, timezone

from pymongo.database import Database
from pymongo.errors import PyMongoError

log = logging.getLogger(__name__)

COLLECTION = "heartbeats"
INTERVAL_S = 1.0
# A component that has not beaten for this long is reported down.
STALE_AFTER_S = 10.0
# A component failing, or holding work it cannot finish, for this long is reported stuck (longer than a projector's
# bounded batch, and than the relay's retry after a broker restart).
STUCK_AFTER_S = 30.0


class Heartbeat:
    def __init__(self, db: Database, component: str):
        self.collection = db[COLLECTION]
        self.component = component
        self.last = 0.0

    def beat(self, **progress) -> None:
        now = time.monotonic()
        if now - self.last < INTERVAL_S:
            return
        self.last = now
        try:
            self.collection.update_one(
                {"_id": self.component},
                {"$set": {"at": datetime.now(timezone.utc).timestamp(), "pid": os.getpid(), **progress}},
                upsert=True,
            )
        except PyMongoError as exc:  # being unable to say "alive" must not stop the work itself
            log.warning("heartbeat of %s not recorded: %s", self.component, exc)


def heartbeats(db: Database, components) -> dict[str, dict]:
    """The last heartbeat of each of these components that has one."""
    return {doc["_id"]: doc for doc in db[COLLECTION].find({"_id": {"$in": list(components)}})}


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
