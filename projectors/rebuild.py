"""Rebuild: drop every read model and replay the whole event store into it.

Safe while the live projector runs: it reads the log to its end after the drop, and the exact-version
guard makes any event the live projector applies out of turn a no-op that the replay then applies.
"""

from collections.abc import Iterable, Iterator
from itertools import islice

from pymongo.database import Database

from projectors.feed import PROGRESS, REFILLING, feed_writes
from projectors.indexes import ensure_indexes
from projectors.runner import apply, write_in_order
from schemas.read_models import COLLECTIONS, EVENTS

PAGE = 1000


def rebuild(db: Database, envelopes: Iterable[dict]) -> int:
    # Followers of the feeds that must not skip an event wait while it is refilled (`projectors.feed.feed_state`). A
    # rebuild that fails leaves it said: the feeds stay incomplete, and those followers wait, until one succeeds.
    refilling = {"_id": REFILLING}
    db[PROGRESS].update_one(refilling, {"$set": {"refilling": True}, "$inc": {"refills": 1}}, upsert=True)
    for collection in COLLECTIONS:
        db[collection].drop()
    ensure_indexes(db)
    replayed = last = 0
    for page in pages(iter(envelopes)):
        apply(db, page)
        last = page[-1]["position"]
        writes = feed_writes(page)
        if writes:
            write_in_order(db[EVENTS], writes)
        replayed += len(page)
    # The feed was dropped with the rest: a feed writer (re)starting goes on after what was replayed here.
    db[PROGRESS].update_one({"_id": EVENTS}, {"$set": {"position": last}}, upsert=True)
    db[PROGRESS].update_one(refilling, {"$set": {"refilling": False}})
    return replayed


def pages(envelopes: Iterator[dict]) -> Iterator[list[dict]]:
    while page := list(islice(envelopes, PAGE)):
        yield page
