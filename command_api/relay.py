"""The relay: publishes the event store's log to Kafka, in order, keyed by aggregate id.

The event store and its log are a transactional outbox: commands never write to Kafka, so there is
no dual write. The relay can only re-publish, never skip:
- On start (and after a publish failure) it asks the broker what it holds, the last message of every
  partition, and resumes after the lowest of those log positions. That makes the broker's content the
  relay's record of progress.
- An event it cannot publish (one that cannot be read back, or is too large for a broker message) is parked as a
  dead letter, with every later event of its aggregate, and the log goes on: one event never stops every team's
  read side. `ocs admin replay-dead-letters` asks the relay to publish them again, in order, after a fix.
- A broker can lose its last acknowledged writes when it is killed, and come back before the relay
  notices any error. So the relay remembers where recent acknowledged messages landed: when the broker
  hands out an offset again (a new send acknowledged at a lower offset), or a partition's end falls below
  what was acknowledged, messages are lost, and the relay publishes again from the earliest remembered log
  position, every partition included (duplicates are harmless, gaps are not). A broker that lost messages
  may also have taken later ones behind the gap, so after a loss or a failed publish no partition's last
  message is trusted to say what the partition holds below it: the relay publishes again from the earliest
  send it remembers, or from where it stood, whichever is lower.
"""

import logging
import threading
import time
from collections import defaultdict, deque

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import CorruptRecordError, InvalidRecordError, MessageSizeTooLargeError

from command_api.write_model.application import OcsApplication
from infra.dead_letters import BEHIND_A_PARKED_EVENT, DeadLetters
from infra.doorbells import UNWIRED, Doorbell, Doorbells, Unwired
from infra.kafka import (
    DEFAULT_MAX_MESSAGE_BYTES,
    EnvelopeJson,
    ensure_topics,
    make_producer,
    partition_for,
    tail,
    widen_empty_topics,
)
from infra.kafka_retention import Retention
from infra.metrics import EVENTS_PARKED, EVENTS_PUBLISHED
from schemas.events import TOPICS

log = logging.getLogger(__name__)

# The relay's name among those who park events (`infra.dead_letters`).
GROUP = "ocs-relay"
BATCH = 500
IDLE_SLEEP_S = 0.005
RETRY_SLEEP_S = 0.5
# How often an idle relay checks that the broker still holds what it acknowledged.
LOSS_CHECK_S = 1.0
# How long acknowledged sends are remembered; a broker loses at most its last second or so.
REMEMBERED_S = 30.0
# How often an idle relay looks for parked events an operator asked to publish again.
REPLAY_CHECK_S = 2.0
# The longest a send may wait for the broker's answer before the relay starts over with a fresh producer.
SEND_TIMEOUT_S = 30.0
# What a broker answers for a record it will never take (too large, or invalid), as opposed to being unavailable.
REFUSED_RECORD = (MessageSizeTooLargeError, CorruptRecordError, InvalidRecordError)
# What sending an event raises when no message can carry it: too large, or not encodable as JSON text.
UNPUBLISHABLE = (MessageSizeTooLargeError, TypeError, ValueError)


class BrokerLostData(Exception):
    def __init__(self, first_lost_position: int):
        super().__init__(f"the broker lost acknowledged events from log position {first_lost_position}")
        self.first_lost_position = first_lost_position


class AcknowledgedSends:
    """Where recently acknowledged messages landed: (offset, log position, when) per partition."""

    def __init__(self):
        self.sends: dict[TopicPartition, deque] = defaultdict(deque)

    def record(self, partition: TopicPartition, offset: int, position: int) -> None:
        sends = self.sends[partition]
        if sends and offset <= sends[-1][0]:
            # The broker gave out this offset before: everything acknowledged from it on is gone.
            raise BrokerLostData(min(p for o, p, _ in sends if o >= offset))
        now = time.monotonic()
        sends.append((offset, position, now))
        while sends and now - sends[0][2] > REMEMBERED_S:
            sends.popleft()

    def check(self, ends: dict[TopicPartition, int]) -> None:
        for partition, end in ends.items():
            lost = [p for o, p, _ in self.sends.get(partition, ()) if o >= end]
            if lost:
                raise BrokerLostData(min(lost))

    def earliest(self, default: int) -> int:
        """The lowest log position among the remembered sends (`default` when there are none)."""
        return min((p for sends in self.sends.values() for _, p, _ in sends), default=default)

    def partitions(self) -> list[TopicPartition]:
        return [partition for partition, sends in self.sends.items() if sends]

    def clear(self) -> None:
        self.sends.clear()


class Relay:
    def __init__(
        self,
        app: OcsApplication,
        bootstrap: str,
        new_topic_partitions: int,
        heartbeat,
        dead_letters: DeadLetters,
        retention: Retention,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        doorbell: Doorbell | Unwired = UNWIRED,
        consumers: Doorbells | Unwired = UNWIRED,
    ):
        """`retention`: removes the broker's old records that every group has read, while the relay is idle;
        `doorbell`: rung by whoever appends to the event store, it ends the relay's idle sleeps; `consumers`: the
        doorbells the relay rings once it has published (`infra.doorbells`)."""
        self.app = app
        self.doorbell = doorbell
        self.consumers = consumers
        self.bootstrap = bootstrap
        self.new_topic_partitions = new_topic_partitions
        self.heartbeat = heartbeat
        self.dead_letters = dead_letters
        self.retention = retention
        self.max_message_bytes = max_message_bytes
        self.envelope_json = EnvelopeJson()
        self.producer = None
        self.partition_counts: dict[str, int] = {}
        # Highest log position already held by each (topic, partition): those events are not sent again.
        self.held: dict[tuple[str, int], int] = {}
        self.position = 0
        # Up to this log position events are sent one at a time: the broker refused a record of a batch.
        self.one_by_one_until = 0
        self.acknowledged = AcknowledgedSends()
        self.offsets: KafkaConsumer | None = None
        self.last_loss_check = 0.0
        self.last_replay_check = 0.0
        self.failing_since: float | None = None
        # When the relay last read the log without failing: it published, or found nothing new.
        self.progressed_at = time.time()
        # Topics with fewer partitions than new ones get, which hold messages: reported, never changed.
        self.narrow_topics: dict[str, int] = {}
        # Set by a failed publish: the log position to publish again after, whatever the partitions end with.
        self.republish_after: int | None = None

    def resume(self) -> None:
        ensure_topics(self.bootstrap, TOPICS.values(), self.new_topic_partitions)
        self.narrow_topics = widen_empty_topics(self.bootstrap, TOPICS.values(), self.new_topic_partitions)
        self.held = {}
        for topic in TOPICS.values():
            self.partition_counts[topic], tails = tail(self.bootstrap, topic)
            self.held.update({(topic, partition): envelope["position"] for partition, envelope in tails.items()})
        # Every partition's lost tail lies after the lowest position any partition holds; a partition
        # that holds nothing may have lost everything.
        all_partitions = sum(self.partition_counts.values())
        self.position = min(self.held.values()) if len(self.held) == all_partitions else 0
        if self.republish_after is not None:
            self.held = {}
            self.position = min(self.position, self.republish_after)
            self.republish_after = None
        if self.producer is None:
            # Envelopes are encoded here, one by one, so that one that cannot be is parked alone.
            self.producer = make_producer(self.bootstrap, self.max_message_bytes, encodes_envelopes=False)
            self.offsets = KafkaConsumer(
                bootstrap_servers=self.bootstrap, enable_auto_commit=False, allow_auto_create_topics=False
            )
        self.dead_letters.refresh()
        self.acknowledged.clear()
        log.info("relay resumes after log position %d", self.position)

    def rewind(self, lost: BrokerLostData) -> None:
        log.warning("%s; publishing again from there", lost)
        self.held = {}
        # Other partitions may have lost earlier sends than the one that showed it.
        self.position = self.acknowledged.earliest(lost.first_lost_position) - 1
        self.acknowledged.clear()

    def publish_once(self) -> int:
        """Publish the next batch of the log; the number of events read (0 when caught up). An event that cannot
        be published (unreadable, or too large for a message) is parked, with every later one of its aggregate."""
        one_by_one = self.position < self.one_by_one_until
        entries = self.app.log_entries(self.position, 1 if one_by_one else BATCH)
        sends = []
        for envelope, unreadable in entries:
            topic, key, partition = self.destination(envelope)
            if envelope["position"] <= self.held.get((topic, partition), 0):
                continue  # the broker has it already
            if self.dead_letters.is_parked(envelope["aggregate_id"]):
                self.park(envelope, BEHIND_A_PARKED_EVENT, attempts=0)
                continue
            if unreadable:
                self.park(envelope, unreadable)
                continue
            try:
                sent = self.send(envelope)
            except UNPUBLISHABLE as exc:
                self.park(envelope, f"cannot be published: {exc!r}")
                continue
            sends.append((sent, envelope))
        self.producer.flush(timeout=SEND_TIMEOUT_S)
        for sent, envelope in sends:
            try:
                landed = sent.get(timeout=SEND_TIMEOUT_S)  # raises if the broker did not acknowledge it
            except REFUSED_RECORD as exc:
                if one_by_one:
                    self.park(envelope, f"the broker refused it: {exc!r}")
                    continue
                # The broker refuses a whole batch of a partition; find out which record it is by itself.
                log.warning("the broker refused a record (%r); publishing one at a time from here", exc)
                self.one_by_one_until = entries[-1][0]["position"]
                self.position = envelope["position"] - 1
                return len(entries)
            self.acknowledged.record(
                TopicPartition(landed.topic, landed.partition), landed.offset, envelope["position"]
            )
            EVENTS_PUBLISHED.labels(landed.topic).inc()
        if entries:
            self.position = entries[-1][0]["position"]
        return len(entries)

    def destination(self, envelope: dict) -> tuple[str, bytes, int]:
        """(topic, key, partition) of an event: its aggregate type's topic, keyed and partitioned by aggregate."""
        topic = TOPICS[envelope["aggregate_type"]]
        key = envelope["aggregate_id"].encode()
        return topic, key, partition_for(key, self.partition_counts[topic])

    def send(self, envelope: dict):
        """Raises one of UNPUBLISHABLE for an event no broker message can carry."""
        topic, key, partition = self.destination(envelope)
        value = self.envelope_json.serialize(topic, None, envelope)
        return self.producer.send(topic, key=key, value=value, partition=partition)

    def park(self, envelope: dict, reason: str, attempts: int = 1) -> None:
        if attempts:
            log.error(
                "parking event %s (%s) at log position %d: %s",
                envelope["event_id"],
                envelope["type"],
                envelope["position"],
                reason,
            )
            EVENTS_PARKED.labels(GROUP).inc()
        # The relay's letters carry no data: the event store keeps the event at its position.
        self.dead_letters.park({k: v for k, v in envelope.items() if k != "data"}, reason, attempts)

    def run(self, stop: threading.Event) -> None:
        try:
            self.resume_after_failure(stop)
            self.publish_until(stop)
        finally:
            self.close_clients()
            self.dead_letters.close()

    def publish_until(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                published = self.publish_once()
                if published < BATCH:
                    self.check_for_loss()
                    self.replay_when_asked()
                    self.retention.trim_when_due()
            except BrokerLostData as lost:
                self.rewind(lost)
                continue
            except Exception:
                log.exception("publishing failed; resuming from what the broker holds")
                self.start_over(stop)
                continue
            self.failing_since = None
            self.progressed_at = time.time()
            if published:
                self.consumers.ring()
            self.beat()
            if published < BATCH:
                self.doorbell.wait(IDLE_SLEEP_S)

    def start_over(self, stop: threading.Event) -> None:
        """After a failed publish: a fresh producer, and every send the broker may not hold published again."""
        self.failing_since = self.failing_since or time.time()
        self.republish_after = min(self.position, self.acknowledged.earliest(self.position + 1) - 1)
        self.beat()
        time.sleep(RETRY_SLEEP_S)
        # A fresh producer: an idempotent one keeps sequence numbers a restarted broker may refuse forever.
        self.close_clients()
        self.resume_after_failure(stop)

    def beat(self) -> None:
        self.heartbeat.beat(
            position=self.position,
            progressed_at=self.progressed_at,
            failing_since=self.failing_since,
            narrow_topics=self.narrow_topics,
        )

    def check_for_loss(self) -> None:
        """While idle, ask the broker now and then whether it still holds what it acknowledged."""
        now = time.monotonic()
        partitions = self.acknowledged.partitions()
        if partitions and now - self.last_loss_check >= LOSS_CHECK_S:
            self.last_loss_check = now
            self.acknowledged.check(self.offsets.end_offsets(partitions))

    def replay_when_asked(self) -> None:
        """Publish the parked events an operator asked to replay (`ocs admin replay-dead-letters`), each
        aggregate's in order, stopping at an aggregate's first that still cannot be published."""
        now = time.monotonic()
        if now - self.last_replay_check < REPLAY_CHECK_S:
            return
        self.last_replay_check = now
        asked = {letter["aggregate_id"] for letter in self.dead_letters.letters({"replay_requested_at": {"$ne": None}})}
        failed = set()
        # Every letter of an aggregate asked for, those parked behind since the asking included.
        for letter in self.dead_letters.letters({"aggregate_id": {"$in": sorted(asked)}}) if asked else ():
            if letter["aggregate_id"] in failed:
                continue
            ((envelope, unreadable),) = self.app.log_entries(letter["position"] - 1, 1)
            try:
                if unreadable:
                    raise ValueError(unreadable)
                self.send(envelope).get(timeout=SEND_TIMEOUT_S)
            except (*UNPUBLISHABLE, *REFUSED_RECORD) as exc:
                failed.add(letter["aggregate_id"])
                self.dead_letters.failed_again(letter, f"cannot be published: {exc!r}")
                continue
            self.dead_letters.replayed(letter)
        self.dead_letters.refresh()

    def resume_after_failure(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.resume()
                return
            except Exception:
                log.exception("broker unavailable")
                self.failing_since = self.failing_since or time.time()
                self.beat()
                time.sleep(RETRY_SLEEP_S)

    def close_clients(self) -> None:
        if self.producer is not None:
            self.producer.close(timeout=SEND_TIMEOUT_S)
            self.offsets.close()
            self.producer = self.offsets = None
