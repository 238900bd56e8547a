"""Dead letters: events a projector cannot apply, parked so that the rest of their partition goes on.

An event that fails for a reason other than MongoDB being unreachable is retried a few times, then parked:
recorded in the `dead_letters` collection (the projectors' own bookkeeping, which a rebuild keeps) and
published to the dead-letter topic for operators and alerting. Every later event of the same aggregate
is parked behind it, so that a replay applies them in order once the cause is fixed.
"""

import json
import time
from datetime import datetime, timezone

from pymongo import ASCENDING
from pymongo.database import Database

from infra.kafka import ensure_topics, make_producer
from schemas.events import DEAD_LETTER_TOPIC

COLLECTION = "dead_letters"
REFRESH_S = 10.0
BEHIND_A_PARKED_EVENT = "an earlier event of this aggregate is parked"


class DeadLetters:
    def __init__(self, db: Database, bootstrap: str, partitions: int):
        self.collection = db[COLLECTION]
        self.bootstrap = bootstrap
        self.partitions = partitions
        self.producer = None
        self.parked_aggregates: set[str] = set()
        self.refreshed = 0.0

    def is_parked(self, aggregate_id: str) -> bool:
        if time.monotonic() - self.refreshed > REFRESH_S:
            self.refresh()
        return aggregate_id in self.parked_aggregates

    def refresh(self) -> None:
        self.parked_aggregates = set(self.collection.distinct("aggregate_id", {"replayed_at": None}))
        self.refreshed = time.monotonic()

    def park(self, group: str, envelope: dict, error: str, attempts: int) -> None:
        letter = {
            "_id": f"{group}:{envelope['event_id']}",
            "group": group,
            "event_id": envelope["event_id"],
            "type": envelope["type"],
            "aggregate_id": envelope["aggregate_id"],
            "aggregate_version": envelope["aggregate_version"],
            "error": error,
            "attempts": attempts,
            "parked_at": datetime.now(timezone.utc).isoformat(),
            "replayed_at": None,
            # As text: the envelope's data is whatever could not be applied, MongoDB may refuse it as fields.
            "envelope": json.dumps(envelope),
        }
        self.collection.create_index([("aggregate_id", ASCENDING), ("aggregate_version", ASCENDING)])
        self.collection.replace_one({"_id": letter["_id"]}, letter, upsert=True)
        self.parked_aggregates.add(envelope["aggregate_id"])
        self.publish(letter)

    def publish(self, letter: dict) -> None:
        if self.producer is None:
            ensure_topics(self.bootstrap, [DEAD_LETTER_TOPIC], self.partitions)
            self.producer = make_producer(self.bootstrap)
        record = {**letter, "envelope": json.loads(letter["envelope"])}
        self.producer.send(DEAD_LETTER_TOPIC, key=letter["aggregate_id"].encode(), value=record).get()

    def pending(self) -> list[dict]:
        letters = self.collection.find({"replayed_at": None}).sort([("aggregate_id", 1), ("aggregate_version", 1)])
        return [{k: v for k, v in letter.items() if k != "envelope"} for letter in letters]

    def replay(self, apply) -> dict:
        """Apply every parked event again, in each aggregate's order; stop at an aggregate's first failure."""
        replayed, failed_aggregates = 0, set()
        for letter in self.collection.find({"replayed_at": None}).sort([("aggregate_id", 1), ("aggregate_version", 1)]):
            if letter["aggregate_id"] in failed_aggregates:
                continue
            try:
                apply([json.loads(letter["envelope"])])
            except Exception as exc:
                failed_aggregates.add(letter["aggregate_id"])
                self.collection.update_one({"_id": letter["_id"]}, {"$set": {"error": repr(exc)}})
                continue
            replayed += 1
            self.collection.update_one(
                {"_id": letter["_id"]}, {"$set": {"replayed_at": datetime.now(timezone.utc).isoformat()}}
            )
        self.refresh()
        return {"replayed": replayed, "still_parked": len(self.pending())}

    def close(self) -> None:
        if self.producer is not None:
            self.producer.close()
