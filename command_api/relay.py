"""The relay: publishes the event store's log to Kafka, in order, keyed by aggregate id.

The event store and its log are a transactional outbox: commands never write to Kafka, so there is
no dual write. The relay can only re-publish, never skip: on start (and after any publish failure) it
asks the broker what it actually holds, because a broker can lose its last acknowledged writes when it
is killed, and resumes from there. That makes the broker's content the relay's record of progress.
"""

import logging
import threading
import time

from command_api.application import OcsApplication
from infra.kafka import ensure_topics, make_producer, partition_for, tail
from schemas.events import TOPICS

log = logging.getLogger(__name__)

BATCH = 500
IDLE_SLEEP_S = 0.005
RETRY_SLEEP_S = 0.5


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
        log.info("relay resumes after log position %d", self.position)

    def publish_once(self) -> int:
        """Publish the next batch of the log; the number of events read (0 when caught up)."""
        batch = self.app.envelopes(self.position, BATCH)
        sends = []
        for envelope in batch:
            topic = TOPICS[envelope["aggregate_type"]]
            key = envelope["aggregate_id"].encode()
            partition = partition_for(key, self.partition_counts[topic])
            if envelope["position"] > self.held.get((topic, partition), 0):
                sends.append(self.producer.send(topic, key=key, value=envelope, partition=partition))
        self.producer.flush()
        for sent in sends:
            sent.get()  # raises if the broker did not acknowledge it
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

    def publish_until(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                published = self.publish_once()
            except Exception:
                log.exception("publishing failed; resuming from what the broker holds")
                time.sleep(RETRY_SLEEP_S)
                self.resume_after_failure(stop)
                continue
            self.heartbeat.beat(position=self.position)
            if published < BATCH:
                time.sleep(IDLE_SLEEP_S)

    def resume_after_failure(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.resume()
                return
            except Exception:
                log.exception("broker unavailable")
                time.sleep(RETRY_SLEEP_S)
