"""How far each webhook subscription's deliveries got, kept in MongoDB as the delivery worker's own progress (as a
consumer group's offsets are the group's): its cursor in its team's feed, the deliveries it parked, its last error,
and which replica of the delivery worker holds it (a lease, so that replicas never deliver one subscription twice).

It is no read model (`ocs admin rebuild-read-models` keeps it: the feed's positions do not change in a rebuild),
and no event records it (one per delivery would double the log). The cursor moves only after an event was
delivered or parked, so a worker killed mid-delivery delivers that event again: at least once, never lost.
"""

import time
from datetime import datetime, timezone

from pymongo import ASCENDING as UP
from pymongo.database import Database

from schemas.read_models import stored_json

PROGRESS = "subscription_progress"
PARKED = "parked_deliveries"
# Parked deliveries `status` lists; it counts them all.
STATUS_PARKED = 100
# How long a replica holds a subscription without renewing it (each delivery renews it): longer than any one
# attempt may take, and how long a replica that died keeps its subscriptions from the others.
LEASE_S = 60.0


def now_text() -> str:
    return datetime.now(timezone.utc).isoformat()


class DeliveryProgress:
    def __init__(self, db: Database):
        self.progress = db[PROGRESS]
        self.parked = db[PARKED]

    def ensure_indexes(self) -> None:
        self.parked.create_index([("subscription_id", UP), ("position", UP)])
        self.parked.create_index([("subscription_id", UP), ("aggregate_id", UP), ("position", UP)])

    def cursor(self, subscription_id: str) -> int | None:
        """Where the subscription is in its team's feed; None before it has started (`start`)."""
        doc = self.progress.find_one({"_id": subscription_id}, {"cursor": 1})
        return doc.get("cursor") if doc else None

    def start(self, subscription_id: str, after: int) -> int:
        """Its cursor, set to `after` unless it has one already."""
        doc = self.progress.find_one_and_update(
            {"_id": subscription_id}, {"$setOnInsert": {"cursor": after}}, upsert=True, return_document=True
        )
        return doc.get("cursor", after)

    def claim(self, subscription_id: str, owner: str) -> bool:
        """Hold (or go on holding) the subscription for the replica `owner`: False while another replica does."""
        now = time.time()
        free = [{"owner": owner}, {"lease_until": {"$exists": False}}, {"lease_until": {"$lt": now}}]
        held = self.progress.update_one(
            {"_id": subscription_id, "$or": free}, {"$set": {"owner": owner, "lease_until": now + LEASE_S}}
        )
        return held.matched_count == 1

    def release(self, owner: str) -> None:
        """On stopping: what `owner` held is free for the other replicas at once."""
        self.progress.update_many({"owner": owner}, {"$set": {"lease_until": 0}})

    def advance(self, subscription_id: str, owner: str, cursor: int, to: int) -> bool:
        """Move the cursor from `cursor` to `to`, renewing `owner`'s lease; False when it was not at `cursor` (a replay
        moved it back) or `owner` no longer holds the subscription."""
        moved = self.progress.update_one(
            {"_id": subscription_id, "owner": owner, "cursor": cursor},
            {"$set": {"cursor": to, "lease_until": time.time() + LEASE_S}},
        )
        return moved.matched_count == 1

    def record_error(self, subscription_id: str, error: str) -> None:
        last = {"error": error, "at": now_text()}
        self.progress.update_one({"_id": subscription_id}, {"$set": {"last_error": last}})

    def park(self, subscription_id: str, envelope: dict, attempts: int, error: str) -> None:
        """Kept for `ocs admin replay-subscription`; later events of its aggregate wait behind it (parked too)."""
        self.parked.update_one(
            {"_id": f"{subscription_id}:{envelope['event_id']}"},
            {
                "$set": {
                    "subscription_id": subscription_id,
                    "event_id": envelope["event_id"],
                    "type": envelope["type"],
                    "aggregate_id": envelope["aggregate_id"],
                    "position": envelope["position"],
                    "envelope": stored_json(envelope),
                    "attempts": attempts,
                    "error": error,
                    "parked_at": now_text(),
                    "replay": False,
                }
            },
            upsert=True,
        )

    def parked_aggregates(self, subscription_id: str) -> set[str]:
        return set(self.parked.distinct("aggregate_id", {"subscription_id": subscription_id}))

    def replays(self, subscription_id: str, limit: int) -> list[dict]:
        """Parked deliveries an admin asked to replay, in log order."""
        query = {"subscription_id": subscription_id, "replay": True}
        return list(self.parked.find(query).sort("position", 1).limit(limit))

    def waits_behind(self, parked: dict) -> bool:
        """Whether an earlier event of the same aggregate is still parked (and not being replayed)."""
        earlier = {
            "subscription_id": parked["subscription_id"],
            "aggregate_id": parked["aggregate_id"],
            "replay": False,
            "position": {"$lt": parked["position"]},
        }
        return self.parked.find_one(earlier, {"_id": 1}) is not None

    def unpark(self, parked: dict) -> None:
        self.parked.delete_one({"_id": parked["_id"]})

    def keep_parked(self, parked: dict, attempts: int, error: str) -> None:
        update = {"replay": False, "attempts": attempts, "error": error, "parked_at": now_text()}
        self.parked.update_one({"_id": parked["_id"]}, {"$set": update})

    def request_replay(self, subscription_id: str, from_position: int | None) -> dict:
        """Deliver the parked events again, in order; with `from_position`, also every event after that feed position
        (parked ones after it are dropped: they come again from the feed, in order)."""
        dropped = 0
        if from_position is not None:
            later = {"subscription_id": subscription_id, "position": {"$gt": from_position}}
            dropped = self.parked.delete_many(later).deleted_count
            self.progress.update_one({"_id": subscription_id}, {"$set": {"cursor": from_position}}, upsert=True)
        marked = self.parked.update_many({"subscription_id": subscription_id}, {"$set": {"replay": True}})
        return {"parked_to_replay": marked.modified_count, "parked_dropped_for_the_feed": dropped}

    def status(self, subscription_id: str) -> dict:
        """Its cursor, the replica holding it, its last error and parked deliveries (the first `STATUS_PARKED`, in log
        order, and how many)."""
        doc = self.progress.find_one({"_id": subscription_id}) or {}
        query = {"subscription_id": subscription_id}
        hidden = {"_id": 0, "subscription_id": 0, "envelope": 0}
        parked = self.parked.find(query, hidden).sort("position", 1).limit(STATUS_PARKED)
        return {
            "cursor": doc.get("cursor"),
            "held_by": doc.get("owner") if doc.get("lease_until", 0) > time.time() else None,
            "last_error": doc.get("last_error"),
            "parked_count": self.parked.count_documents(query),
            "parked": list(parked),
        }
