"""The projector process: consumes every topic as one consumer group and applies each batch to MongoDB.

Offsets are committed only after MongoDB has the batch, so a crash means re-applying (harmless: the
projections are idempotent), never skipping.
"""

import logging
import threading
import time
from collections import defaultdict

from kafka import TopicPartition
from pymongo.database import Database

from infra.heartbeat import Heartbeat
from infra.kafka import Poller, make_consumer
from projectors.projections import COLLECTIONS, writes_for
from schemas.events import TOPICS

log = logging.getLogger(__name__)

GROUP = "ocs-projectors"
RETRY_SLEEP_S = 0.5


def apply(db: Database, envelopes: list[dict]) -> None:
    """Apply events to the read models; within each aggregate, in the order given."""
    by_collection = defaultdict(list)
    for envelope in envelopes:
        for collection, write in writes_for(envelope):
            by_collection[collection].append(write)
    for collection in COLLECTIONS:
        if by_collection[collection]:
            db[collection].bulk_write(by_collection[collection], ordered=True)


class Projector:
    def __init__(self, db: Database, bootstrap: str, heartbeat: Heartbeat):
        self.db = db
        self.consumer = make_consumer(bootstrap, GROUP, TOPICS.values())
        self.poller = Poller(self.consumer)
        self.heartbeat = heartbeat
        self.applied = 0

    def run(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                records = self.poller.poll()
                if records:
                    self.project(records)
                self.heartbeat.beat(applied=self.applied)
        finally:
            self.consumer.close()

    def project(self, records: list) -> None:
        try:
            apply(self.db, [record.value for record in records])
            self.consumer.commit()
            self.applied += len(records)
        except Exception:
            log.exception("projecting %d events failed; they will be tried again", len(records))
            self.rewind(records)
            time.sleep(RETRY_SLEEP_S)

    def rewind(self, records: list) -> None:
        first = {}
        for record in records:
            first.setdefault(TopicPartition(record.topic, record.partition), record.offset)
        for partition, offset in first.items():
            self.consumer.seek(partition, offset)
