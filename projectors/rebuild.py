"""Rebuild: drop every read model and replay the whole event store into it.

Safe while the live projector runs: it reads the log to its end after the drop, and the exact-version
guard makes any event the live projector applies out of turn a no-op that the replay then applies.
"""

from collections.abc import Iterable, Iterator
from itertools import islice

from pymongo.database import Database

from projectors.indexes import ensure_indexes
from projectors.runner import apply
from schemas.read_models import COLLECTIONS

PAGE = 1000


def rebuild(db: Database, envelopes: Iterable[dict]) -> int:
    for collection in COLLECTIONS:
        db[collection].drop()
    ensure_indexes(db)
    replayed = 0
    for page in pages(iter(envelopes)):
        apply(db, page)
        replayed += len(page)
    return replayed


def pages(envelopes: Iterator[dict]) -> Iterator[list[dict]]:
    while page := list(islice(envelopes, PAGE)):
        yield page
