"""The relay: publishes the event store's log to Kafka, in order, keyed by aggregate id.

The event store and its log are a transactional outbox: commands never write to Kafka, so there is
no dual write. The relay can only re-publish, never skip:
- On start (and after a publish failure) it asks the broker what it holds, the last message of every
  partition, and resumes after the lowest of those log positions. That makes the broker's content the
  relay's record of progress.
- A broker can lose its last acknowledged writes when it is killed, and come back before the relay
  notices any error. So the relay remembers where recent acknowledged messages landed: when the broker
  hands out an offset again (a new send acknowledged at a lower offset), or a partition's end falls below
  what was acknowledged, the messages from there on are lost, and the relay publishes again from the
  earliest lost log position, every partition included (duplicates are harmless, gaps are not).
"""

import logging
import threading
import time
from collections import defaultdict, deque

from kafka import KafkaConsumer, TopicPartition

from command_api.application import OcsApplication
from infra.kafka import ensure_topics, make_producer, partition_for, tail
from infra.metrics import EVENTS_PUBLISHED
from schemas.events import TOPICS

log = logging.getLogger(__name__)

BATCH = 500
IDLE_SLEEP_S = 0.005
RETRY_SLEEP_S = 0.5
# How often an idle relay checks that the broker still holds what it acknowledged.
LOSS_CHECK_S = 1.0
# How long acknowledged sends are remembered; a broker loses at most its last second or so.
REMEMBERED_S = 30.0


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

    def partitions(self) -> list[TopicPartition]:
        return [partition for partition, sends in self.sends.items() if sends]

    def clear(self) -> None:
        self.sends.clear()


class Relay:
    def __init__(self, app: OcsApplication, bootstrap: str, new_topic_partitions: int, heartbeat):
        self.app = app
        self.bootstrap = bootstrap
        self.new_topic_partitions = new_topic_partitions
        self.heartbeat = heartbeat
        self.producer = None
        self.partition_counts: dict[str, int] = {}
        # Highest log position already held by each (topic, partition): those events are not sent again.
        self.held: dict[tuple[str, int], int] = {}
        self.position = 0
        self.acknowledged = AcknowledgedSends()
        self.offsets: KafkaConsumer | None = None
        self.last_loss_check = 0.0

    def resume(self) -> None:
        ensure_topics(self.bootstrap, TOPICS.values(), self.new_topic_partitions)
        self.held = {}
        for topic in TOPICS.values():
            self.partition_counts[topic], tails = tail(self.bootstrap, topic)
            self.held.update({(topic, partition): envelope["position"] for partition, envelope in tails.items()})
        # Every partition's lost tail lies after the lowest position any partition holds; a partition
        # that holds nothing may have lost everything.
        all_partitions = sum(self.partition_counts.values())
        self.position = min(self.held.values()) if len(self.held) == all_partitions else 0
        if self.producer is None:
            self.producer = make_producer(self.bootstrap)
            self.offsets = KafkaConsumer(
                bootstrap_servers=self.bootstrap, enable_auto_commit=False, allow_auto_create_topics=False
            )
        self.acknowledged.clear()
        log.info("relay resumes after log position %d", self.position)

    def rewind(self, lost: BrokerLostData) -> None:
        log.warning("%s; publishing again from there", lost)
        self.held = {}
        self.position = lost.first_lost_position - 1
        self.acknowledged.clear()

    def publish_once(self) -> int:
        """Publish the next batch of the log; the number of events read (0 when caught up)."""
        batch = self.app.envelopes(self.position, BATCH)
        sends = []
        for envelope in batch:
            topic = TOPICS[envelope["aggregate_type"]]
            key = envelope["aggregate_id"].encode()
            partition = partition_for(key, self.partition_counts[topic])
            if envelope["position"] > self.held.get((topic, partition), 0):
                sent = self.producer.send(topic, key=key, value=envelope, partition=partition)
                sends.append((sent, envelope["position"]))
        self.producer.flush()
        for sent, position in sends:
            landed = sent.get()  # raises if the broker did not acknowledge it
            self.acknowledged.record(TopicPartition(landed.topic, landed.partition), landed.offset, position)
            EVENTS_PUBLISHED.labels(landed.topic).inc()
        if batch:
            self.position = batch[-1]["position"]
        return len(batch)

    def run(self, stop: threading.Event) -> None:
        try:
            self.resume()
            self.publish_until(stop)
        finally:
            if self.producer is not None:
                self.producer.close()
                self.offsets.close()

    def publish_until(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                published = self.publish_once()
                if published < BATCH:
                    self.check_for_loss()
            except BrokerLostData as lost:
                self.rewind(lost)
                continue
            except Exception:
                log.exception("publishing failed; resuming from what the broker holds")
                time.sleep(RETRY_SLEEP_S)
                self.resume_after_failure(stop)
                continue
            self.heartbeat.beat(position=self.position)
            if published < BATCH:
                time.sleep(IDLE_SLEEP_S)

    def check_for_loss(self) -> None:
        """While idle, ask the broker now and then whether it still holds what it acknowledged."""
        now = time.monotonic()
        partitions = self.acknowledged.partitions()
        if partitions and now - self.last_loss_check >= LOSS_CHECK_S:
            self.last_loss_check = now
            self.acknowledged.check(self.offsets.end_offsets(partitions))

    def resume_after_failure(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.resume()
                return
            except Exception:
                log.exception("broker unavailable")
                time.sleep(RETRY_SLEEP_S)
