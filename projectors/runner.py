"""The projector process: consumes every topic as one consumer group and applies each batch to MongoDB.

Offsets are committed only after MongoDB has the batch in its journal (one journaled write after the batch's
plain ones: `Heartbeat.journal`), so a crash means re-applying (harmless: the projections are idempotent), never
skipping. While MongoDB is unreachable the batch is retried without end; an event that fails with MongoDB up is
retried a few times and then parked as a dead letter. A poll's records are applied for a bounded time; the rest
come again with the next poll.
"""

import json
import logging
import threading
import time
from collections import defaultdict
from datetime import datetime, timezone

from kafka import TopicPartition
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import BulkWriteError, ConnectionFailure

from infra.dead_letters import BEHIND_A_PARKED_EVENT, DeadLetters
from infra.doorbells import UNWIRED, Doorbell, Doorbells, Unwired
from infra.group_members import GroupMembers
from infra.heartbeat import Heartbeat, end_transaction_of
from infra.hops import CONSUMED_AT, log_projected
from infra.kafka import PROJECTORS_GROUP, Poller, held_partitions, make_consumer
from infra.metrics import COMMAND_TO_READ_MODEL_SECONDS, EVENTS_PARKED, EVENTS_PROJECTED, PROJECTOR_APPLY_SECONDS
from projectors.counting import Counting, count_events
from projectors.projections import writes_for
from schemas.events import TOPICS
from schemas.read_models import COLLECTIONS

log = logging.getLogger(__name__)

GROUP = PROJECTORS_GROUP
RETRY_SLEEP_S = 0.5
# Tries of one event, with MongoDB up, before it is parked.
POISON_ATTEMPTS = 3
DUPLICATE_KEY = 11000
# A poll's records are applied this many at a time, for at most this long before the next poll (the consumer's
# poll deadline, max_poll_interval_ms, is 30 s; a chunk of the largest events still fits well within it).
CHUNK = 100
BATCH_BUDGET_S = 10.0
# Applied aggregates named per ring of the readers' doorbells, and the longest id named: within what a ring may say.
NAMED_PER_RING = 100
LONGEST_NAMED_ID = 200


def apply(db: Database, envelopes: list[dict], counting: Counting | None = None) -> None:
    """Apply events to the read models; within each aggregate, in the order given. `counting`: as `count_events`."""
    # Counted first: whoever sees a document this batch writes sees it counted (`projectors/counting.py`).
    count_events(db, envelopes, counting)
    by_collection = defaultdict(list)
    sources = defaultdict(dict)  # the ids of the events behind each collection's writes, in order, once each
    for envelope in envelopes:
        for collection, write in writes_for(envelope):
            by_collection[collection].append(write)
            sources[collection][envelope["event_id"]] = None
    for collection in COLLECTIONS:
        if by_collection[collection]:
            write_in_order(db[collection], by_collection[collection])
            log_projected(collection, list(sources[collection]))


def write_in_order(collection: Collection, writes: list) -> None:
    """One ordered bulk write; an insert of a document that is there already (a replayed event's) is skipped
    and the writes after it go on."""
    while writes:
        try:
            collection.bulk_write(writes, ordered=True)
            return
        except BulkWriteError as exc:
            failed = exc.details["writeErrors"][0]
            if failed["code"] != DUPLICATE_KEY:
                raise
            writes = writes[failed["index"] + 1 :]


class Projector:
    def __init__(
        self,
        db: Database,
        bootstrap: str,
        heartbeat: Heartbeat,
        dead_letters: DeadLetters,
        members: GroupMembers,
        doorbell: Doorbell | Unwired = UNWIRED,
        readers: Doorbells | Unwired = UNWIRED,
    ):
        """`readers`: the doorbells of the processes that wait for what it applies (the API's read-your-writes)."""
        self.db = db
        self.members = members
        self.consumer = make_consumer(bootstrap, GROUP, TOPICS.values())
        self.poller = Poller(self.consumer, doorbell=doorbell)
        self.readers = readers
        self.heartbeat = heartbeat
        self.dead_letters = dead_letters
        # Counting's transactions run in this one session, which the heartbeat names (`projectors.counting`).
        self.counting = Counting(db.client.start_session(), members.unblock)
        self.applied = 0
        # When the records in hand were first polled, while they are not all applied yet (None: nothing waits).
        self.waiting_since: float | None = None

    def run(self, stop: threading.Event) -> None:
        # A predecessor under this id, killed, may have left a transaction open on the counters every projector
        # increments: each of their transactions would wait for the server to reap it, a minute.
        end_transaction_of(self.db, self.heartbeat.stored())
        try:
            while not stop.is_set():
                records = self.poller.poll()
                if records:
                    polled_at = time.time()
                    CONSUMED_AT.set(polled_at)
                    self.waiting_since = self.waiting_since or polled_at
                    self.project(records)
                self.beat()
                self.members.remove_the_departed()
        finally:
            self.consumer.close()
            self.dead_letters.close()
            self.counting.session.end_session()

    def beat(self) -> None:
        self.heartbeat.beat(
            applied=self.applied,
            waiting_since=self.waiting_since,
            partitions=held_partitions(self.consumer),
            session=self.counting.session.session_id,
        )

    def project(self, records: list) -> None:
        """Apply a poll's records, in chunks, for at most about BATCH_BUDGET_S: what is left is fetched again by the
        next poll, so the consumer never misses its poll deadline, whatever the records cost."""
        started = time.perf_counter()
        done = 0
        try:
            while done < len(records):
                handled = self.project_chunk(records[done : done + CHUNK], started)
                # Visible now: a command waiting to read its own write checks at once (before the journal, as its
                # own reads could).
                self.tell_readers([record.value for record in records[done : done + handled]])
                done += handled
                self.beat()  # a long batch must not look like a replica gone silent (infra/group_members.py)
                if time.perf_counter() - started > BATCH_BUDGET_S:
                    break
            if done:
                self.heartbeat.journal()  # durable before the offsets move past it
        except ConnectionFailure:
            log.exception("MongoDB unreachable; %d events will be applied again", len(records))
            done = 0  # what was written may not be durable: applied again, harmlessly
            time.sleep(RETRY_SLEEP_S)
        if done < len(records):
            self.rewind(records[done:])
        if done:
            self.commit()
            self.applied += done
            self.measure([record.value for record in records[:done]], started)
        if done == len(records):
            self.waiting_since = None

    def commit(self) -> None:
        """Commit the consumer's positions, now just past what was applied, without waiting for the broker's answer
        (its round trip was ~9 % of the projector's time at one chat user, before the next poll): the batch is in
        MongoDB's journal already, so a commit that is lost or refused (a crash, or a rebalance that gave the
        partitions to another member) only means those events are applied again, harmlessly, since projections
        are idempotent."""
        self.consumer.commit_async(callback=self.committed)

    @staticmethod
    def committed(offsets: dict, response) -> None:
        if isinstance(response, Exception):
            log.warning("offset commit not taken (%s): those events will be applied again", response)

    def tell_readers(self, envelopes: list[dict]) -> None:
        """Ring the readers' doorbells naming each aggregate just applied at its last version (ids too long to name
        are left to the readers' own checks)."""
        latest: dict[str, int] = {}
        for envelope in envelopes:
            if len(envelope["aggregate_id"]) <= LONGEST_NAMED_ID:
                latest[envelope["aggregate_id"]] = envelope["aggregate_version"]
        named = list(latest.items())
        for start in range(0, len(named), NAMED_PER_RING):
            self.readers.ring(json.dumps(named[start : start + NAMED_PER_RING]).encode())

    def project_chunk(self, records: list, started: float) -> int:
        """Apply these records; how many were handled (applied or parked), from the first."""
        envelopes = [record.value for record in records]
        # Parking is a side effect: decide once which events remain, so none is parked twice.
        to_apply = [e for e in envelopes if not self.parked_behind(e)]
        left = {id(e) for e in to_apply}
        try:
            apply(self.db, to_apply, self.counting)
            return len(records)
        except ConnectionFailure:
            raise
        except Exception:
            log.exception("a chunk of %d events failed; applying them one by one", len(to_apply))
        for handled, envelope in enumerate(envelopes):
            if handled and time.perf_counter() - started > BATCH_BUDGET_S:
                return handled
            if id(envelope) in left:
                self.apply_or_park(envelope)
                self.beat()  # an event that fails is tried for seconds: still alive between such events
        return len(records)

    @staticmethod
    def measure(envelopes: list[dict], started: float) -> None:
        PROJECTOR_APPLY_SECONDS.observe(time.perf_counter() - started)
        EVENTS_PROJECTED.inc(len(envelopes))
        now = datetime.now(timezone.utc)
        for envelope in envelopes:
            recorded = datetime.fromisoformat(envelope["occurred_at"].replace("Z", "+00:00"))
            COMMAND_TO_READ_MODEL_SECONDS.observe((now - recorded).total_seconds())

    def parked_behind(self, envelope: dict) -> bool:
        """Park the event if an earlier one of its aggregate is parked; whether it was."""
        if not self.dead_letters.is_parked(envelope["aggregate_id"]):
            return False
        self.dead_letters.park(envelope, BEHIND_A_PARKED_EVENT, 0)
        return True

    def apply_or_park(self, envelope: dict) -> None:
        if self.dead_letters.is_parked(envelope["aggregate_id"]):
            self.dead_letters.park(envelope, BEHIND_A_PARKED_EVENT, 0)
            return
        for attempt in range(1, POISON_ATTEMPTS + 1):
            try:
                apply(self.db, [envelope], self.counting)
                return
            except ConnectionFailure:
                raise
            except Exception as exc:
                if attempt == POISON_ATTEMPTS:
                    log.error("parking event %s (%s): %r", envelope["event_id"], envelope["type"], exc)
                    self.dead_letters.park(envelope, repr(exc), attempt)
                    EVENTS_PARKED.labels(GROUP).inc()
                    return
                time.sleep(RETRY_SLEEP_S * attempt)

    def rewind(self, records: list) -> None:
        first = {}
        for record in records:
            first.setdefault(TopicPartition(record.topic, record.partition), record.offset)
        for partition, offset in first.items():
            self.consumer.seek(partition, offset)
