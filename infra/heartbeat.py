"""Heartbeats: each background component says it is alive, and how far it got, in a shared collection
that `/healthz` reads."""

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


def component_status(db: Database, components) -> dict[str, str]:
    beats = {doc["_id"]: doc for doc in db[COLLECTION].find({"_id": {"$in": list(components)}})}
    now = datetime.now(timezone.utc).timestamp()
    return {name: "ok" if name in beats and now - beats[name]["at"] < STALE_AFTER_S else "down" for name in components}
