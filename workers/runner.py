"""A worker: consumes session events as one consumer group and handles many at once (LLM calls, webhook
deliveries), while one session's events are handled strictly in order.

An offset is committed only when every earlier record of its partition has been handled, so a crash
means re-handling (harmless, see `workers.replies`), never skipping.
"""

import logging
import threading
import time
from collections import defaultdict, deque
from concurrent.futures import ThreadPoolExecutor

from kafka import TopicPartition
from kafka.structs import OffsetAndMetadata

from infra.doorbells import UNWIRED, Doorbell, Unwired
from infra.group_members import GroupMembers
from infra.heartbeat import Heartbeat
from infra.hops import CONSUMED_AT
from infra.kafka import Poller, held_partitions, make_consumer
from infra.logs import REQUEST_ID

log = logging.getLogger(__name__)

# Tries before the failure is recorded as the event's outcome (so a user's task ends instead of hanging).
ATTEMPTS = 5
RETRY_SLEEP_S = 0.5
MAX_RETRY_SLEEP_S = 5.0


class PartitionProgress:
    """Which offsets of one partition are handled; the committable offset is the first one still open."""

    def __init__(self):
        self.open: dict[int, bool] = {}
        self.next_offset: int | None = None

    def add(self, offset: int) -> None:
        self.open[offset] = False
        self.next_offset = offset + 1

    def done(self, offset: int) -> None:
        self.open[offset] = True

    def committable(self) -> int | None:
        while self.open:
            first = min(self.open)
            if not self.open[first]:
                return first
            del self.open[first]
        return self.next_offset


class Worker:
    def __init__(
        self,
        bootstrap: str,
        group: str,
        topics,
        handle,
        give_up,
        concurrency: int,
        heartbeat: Heartbeat,
        members: GroupMembers,
        pace_s: float = 0.0,
        doorbell: Doorbell | Unwired = UNWIRED,
    ):
        """`handle(envelope)` does the work; `give_up(envelope, error)` records that it could not be done;
        `pace_s`: the least time between polls, `doorbell`: rung when there is more (`infra.kafka.Poller`)."""
        self.consumer = make_consumer(bootstrap, group, topics)
        self.give_up = give_up
        self.stopping = threading.Event()
        self.poller = Poller(self.consumer, pace_s, doorbell)
        self.handle = handle
        self.pool = ThreadPoolExecutor(concurrency, thread_name_prefix="reply")
        self.max_in_flight = concurrency * 4
        self.heartbeat = heartbeat
        self.members = members
        self.lock = threading.Lock()
        self.waiting: dict[bytes, deque] = defaultdict(deque)
        self.busy_keys: set[bytes] = set()
        self.progress: dict[TopicPartition, PartitionProgress] = defaultdict(PartitionProgress)
        self.in_flight = 0
        self.handled = 0
        self.committed: dict[TopicPartition, int] = {}

    def run(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                self.hold_back(self.in_flight >= self.max_in_flight)
                records = self.poller.poll()
                polled_at = time.time()
                for record in records:
                    self.dispatch(record, polled_at)
                self.commit()
                self.heartbeat.beat(
                    handled=self.handled, in_flight=self.in_flight, partitions=held_partitions(self.consumer)
                )
                self.members.remove_the_departed()
        finally:
            self.stopping.set()
            self.pool.shutdown(wait=True)
            self.commit()
            self.consumer.close()

    def hold_back(self, full: bool) -> None:
        """Take no new records while `full`, and keep polling all the same: a member that stops polling for the
        group's max poll interval is put out of it, and its messages in flight are handed to another worker, which
        asks the LLM for the same replies again."""
        if full:
            self.consumer.pause(*self.consumer.assignment())
        elif paused := self.consumer.paused():
            self.consumer.resume(*paused)

    def dispatch(self, record, polled_at: float) -> None:
        """Hand the record to a thread, or queue it behind its session's record in hand; `polled_at`: when the poll
        returned it (`infra.hops`)."""
        partition = TopicPartition(record.topic, record.partition)
        with self.lock:
            self.progress[partition].add(record.offset)
            self.in_flight += 1
            if record.key in self.busy_keys:
                self.waiting[record.key].append((record, polled_at))
                return
            self.busy_keys.add(record.key)
        self.pool.submit(self.work, record, polled_at)

    def work(self, record, polled_at: float) -> None:
        while record is not None:
            if not self.handle_with_retries(record, polled_at):
                return  # stopping: left uncommitted, so it is handled again after the restart
            with self.lock:
                self.progress[TopicPartition(record.topic, record.partition)].done(record.offset)
                self.in_flight -= 1
                self.handled += 1
                queue = self.waiting.get(record.key)
                if queue:
                    record, polled_at = queue.popleft()
                else:
                    self.waiting.pop(record.key, None)
                    self.busy_keys.discard(record.key)
                    record = None

    def handle_with_retries(self, record, polled_at: float) -> bool:
        # Logs of this work carry the id of the request that caused it (a chat message's task id).
        REQUEST_ID.set(record.value.get("data", {}).get("task_id"))
        CONSUMED_AT.set(polled_at)
        return self.try_until_done(record)

    def try_until_done(self, record) -> bool:
        """Handle the record, or record that it could not be; retried until one of the two is done (an
        event store that is down must not make a message vanish). False if stopping first."""
        attempt = 0
        while not self.stopping.is_set():
            attempt += 1
            try:
                self.handle(record.value)
                return True
            except Exception as exc:
                log.exception("handling %s failed (attempt %d)", record.value.get("event_id"), attempt)
                if attempt >= ATTEMPTS:
                    try:
                        self.give_up(record.value, exc)
                        return True
                    except Exception:
                        log.exception("recording the failure failed too; trying again")
            self.stopping.wait(min(RETRY_SLEEP_S * attempt, MAX_RETRY_SLEEP_S))
        return False

    def commit(self) -> None:
        assigned = self.consumer.assignment()
        with self.lock:
            offsets = {
                partition: offset
                for partition, progress in self.progress.items()
                if partition in assigned
                and (offset := progress.committable()) is not None
                and self.committed.get(partition) != offset
            }
        if not offsets:
            return
        try:
            self.consumer.commit({p: OffsetAndMetadata(o, "", -1) for p, o in offsets.items()})
            self.committed.update(offsets)
        except Exception as exc:  # e.g. a rebalance took the partition: its new owner re-handles, harmlessly
            log.warning("offset commit failed: %s", exc)
