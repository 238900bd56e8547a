"""Dead letters: events the relay could not publish, or a consumer group could not apply, parked so that
everything else goes on.

A parked event is recorded in the `dead_letters` collection (bookkeeping that a rebuild keeps), one letter per
(parker, event), and published to the dead-letter topic for operators and alerting. Every later event of the
same aggregate is parked behind it, so that a replay handles them in order once the cause is fixed. Each parker
(`group`: the relay, or a consumer group) holds back only behind its own letters.

Letters of the relay carry no envelope: the event it could not publish may be too large for a message, or not
readable at all, and the event store keeps it at `position`.
"""

import json
import logging
import time
from datetime import datetime, timezone

from pymongo import ASCENDING
from pymongo.database import Database
from pymongo.errors import PyMongoError

from infra.kafka import ensure_topics, make_producer
from schemas.events import DEAD_LETTER_TOPIC

log = logging.getLogger(__name__)

COLLECTION = "dead_letters"
REFRESH_S = 10.0
BEHIND_A_PARKED_EVENT = "an earlier event of this aggregate is parked"
PENDING = {"replayed_at": None}
IN_ORDER = [("aggregate_id", ASCENDING), ("aggregate_version", ASCENDING)]


class DeadLetters:
    def __init__(self, db: Database, group: str, bootstrap: str, partitions: int):
        self.collection = db[COLLECTION]
        self.group = group
        self.bootstrap = bootstrap
        self.partitions = partitions
        self.producer = None
        self.parked_aggregates: set[str] = set()
        self.refreshed = 0.0

    def is_parked(self, aggregate_id: str) -> bool:
        if time.monotonic() - self.refreshed > REFRESH_S:
            try:
                self.refresh()
            except PyMongoError as exc:
                # What this parker parked itself is known already; the refresh only learns of replays elsewhere.
                log.warning("dead letters not refreshed: %s", exc)
                self.refreshed = time.monotonic()
        return aggregate_id in self.parked_aggregates

    def refresh(self) -> None:
        self.parked_aggregates = set(self.collection.distinct("aggregate_id", {**PENDING, "group": self.group}))
        self.refreshed = time.monotonic()

    def park(self, envelope: dict, error: str, attempts: int, position: int | None = None) -> None:
        """Park an event (`envelope`: at least its event_id, type, aggregate_id and aggregate_version; its `data`
        only where it can be kept). Parking the same event again changes nothing."""
        letter = {
            "_id": f"{self.group}:{envelope['event_id']}",
            "group": self.group,
            "event_id": envelope["event_id"],
            "type": envelope["type"],
            "aggregate_id": envelope["aggregate_id"],
            "aggregate_version": envelope["aggregate_version"],
            "position": envelope.get("position", position),
            "error": error,
            "attempts": attempts,
            "parked_at": datetime.now(timezone.utc).isoformat(),
            "replayed_at": None,
            # As text: the envelope's data is whatever could not be handled, MongoDB may refuse it as fields.
            "envelope": json.dumps(envelope) if "data" in envelope else None,
        }
        self.collection.create_index(IN_ORDER)
        result = self.collection.update_one({"_id": letter["_id"]}, {"$setOnInsert": letter}, upsert=True)
        self.parked_aggregates.add(envelope["aggregate_id"])
        if result.upserted_id is not None:
            self.publish(letter)

    def publish(self, letter: dict) -> None:
        if self.producer is None:
            ensure_topics(self.bootstrap, [DEAD_LETTER_TOPIC], self.partitions)
            self.producer = make_producer(self.bootstrap)
        envelope = json.loads(letter["envelope"]) if letter["envelope"] else None
        record = {**letter, "envelope": envelope}
        self.producer.send(DEAD_LETTER_TOPIC, key=letter["aggregate_id"].encode(), value=record).get()

    def letters(self, query: dict | None = None) -> list[dict]:
        """This parker's pending letters, in each aggregate's order."""
        return list(self.collection.find({**PENDING, "group": self.group, **(query or {})}).sort(IN_ORDER))

    def held_back(self) -> dict[str, int]:
        """Aggregate id -> the first version this parker holds back."""
        held: dict[str, int] = {}
        for letter in self.letters():
            held.setdefault(letter["aggregate_id"], letter["aggregate_version"])
        return held

    def replay(self, handle) -> dict:
        """Hand every parked event to `handle([envelope])` again, in each aggregate's order; stop at an aggregate's
        first failure (for parkers whose letters carry their envelopes)."""
        replayed, failed_aggregates = 0, set()
        for letter in self.letters():
            if letter["aggregate_id"] in failed_aggregates:
                continue
            try:
                handle([json.loads(letter["envelope"])])
            except Exception as exc:
                failed_aggregates.add(letter["aggregate_id"])
                self.failed_again(letter, repr(exc))
                continue
            replayed += 1
            self.replayed(letter)
        self.refresh()
        return {"replayed": replayed, "still_parked": len(self.letters())}

    def request_replay(self) -> int:
        """Ask the parker itself to handle its letters again (the relay: it alone publishes, in log order)."""
        now = datetime.now(timezone.utc).isoformat()
        requested = self.collection.update_many(
            {**PENDING, "group": self.group}, {"$set": {"replay_requested_at": now}}
        )
        return requested.modified_count

    def replayed(self, letter: dict) -> None:
        now = datetime.now(timezone.utc).isoformat()
        self.collection.update_one({"_id": letter["_id"]}, {"$set": {"replayed_at": now}})

    def failed_again(self, letter: dict, error: str) -> None:
        self.collection.update_one({"_id": letter["_id"]}, {"$set": {"error": error, "replay_requested_at": None}})

    def close(self) -> None:
        if self.producer is not None:
            self.producer.close()


def pending_letters(db: Database) -> list[dict]:
    """Every parker's pending letters, without the envelopes they carry."""
    letters = db[COLLECTION].find(PENDING, {"envelope": 0}).sort([("group", ASCENDING), *IN_ORDER])
    return list(letters)


def pending_count(db: Database) -> int:
    return db[COLLECTION].count_documents(PENDING)
