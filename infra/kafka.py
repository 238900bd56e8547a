"""Kafka clients as this system uses them: producers that wait for every replica, and consumers that poll
without spinning a core."""

import json
import logging
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewPartitions, NewTopic
from kafka.errors import TopicAlreadyExistsError
from kafka.partitioner.default import murmur2
from kafka.serializer import Deserializer, Serializer
from kafka.structs import MemberState

from infra.doorbells import UNWIRED, Doorbell, Unwired
from infra.instance import instance_id

log = logging.getLogger(__name__)

# The consumer groups, as every side and the metrics name them.
PROJECTORS_GROUP = "ocs-projectors"
REPLIES_GROUP = "ocs-workers"
CONSUMER_GROUPS = (PROJECTORS_GROUP, REPLIES_GROUP)

# The local broker answers fetches at once instead of honouring fetch_max_wait_ms, so a consumer
# polling with a timeout busy-loops. So a member of a stable group polls for 1 ms, then sleeps when idle,
# longer the longer it stays idle (one poll costs ~1 ms of CPU), and not at all while records flow.
POLL_TIMEOUT_MS = 1
# After a ring of its doorbell a poll waits this long for records: they are on the broker already, but a 1 ms poll
# ends before the fetch that brings them is answered, and the next ring may never come.
RUNG_POLL_TIMEOUT_MS = 10
# The longest a member waits for its join in one `Poller.poll` (the join is then re-awaited by the next poll): joins
# take about a second, and the caller's loop (heartbeats, stop requests, commits) resumes at least this often.
JOIN_WAIT_S = 2.0
IDLE_SLEEP_MIN_S = 0.002
IDLE_SLEEP_MAX_S = 0.02
# A consumer idle this long sleeps up to DEEP_IDLE_SLEEP_S between polls: an idle replica then costs ~2 % of a core
# instead of ~10 %, and only the first record after a quiet spell waits longer (up to 0.1 s more).
DEEP_IDLE_AFTER_S = 10.0
DEEP_IDLE_SLEEP_S = 0.1
# kafka-python's own client metrics, which nothing here reads: recording them costs ~7 % of a poll's CPU and ~8 %
# of a sent record's (measured on the local broker, 64 partitions; a throwaway script, 2026-12-07).
CLIENT_METRICS = False
# The local broker also ignores fetch_max_bytes and max_partition_fetch_bytes: a consumer far behind gets every
# partition's whole backlog in one response, and one over kafka-python's 100 MB frame limit is refused, then
# fetched again, forever (a projector 270k events behind stopped there). Apache Kafka keeps a response within
# fetch_max_bytes (50 MB), so this larger limit only lets a consumer of the local broker catch up in one bite.
RECEIVE_MAX_BYTES = 1 << 30
# The most one message may hold: kafka-python's and Apache Kafka's default (the broker's `message.max.bytes` is
# 1,048,588 for a whole record batch), and the local broker's limit too.
DEFAULT_MAX_MESSAGE_BYTES = 1_048_576
# Room left in a message beside the largest event: the record's own framing, and a dead letter's fields around
# an envelope it carries.
MESSAGE_MARGIN_BYTES = 16 * 1024


def max_event_bytes(max_message_bytes: int) -> int:
    """The largest envelope the write model records, given what one broker message may hold."""
    return max_message_bytes - MESSAGE_MARGIN_BYTES


class EnvelopeJson(Serializer, Deserializer):
    """Envelopes travel as compact UTF-8 JSON (non-ASCII text as itself, so an event's size is its text's)."""

    def serialize(self, topic, headers, data):
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()

    def deserialize(self, topic, headers, data):
        return json.loads(data)


def partition_for(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner would pick; chosen explicitly so the relay can reason about it."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def ensure_topics(bootstrap: str, topics, partitions: int) -> None:
    """Create missing topics with `partitions` partitions. Every process creates the topics it names before its
    first client names them: a consumer of a group that subscribes to a missing topic makes the local broker create
    it with one partition (`allow_auto_create_topics=False` notwithstanding), and then only one replica could ever
    work on it. The replication factor is the brokers' `default.replication.factor` (3 in infra/compose/, 1
    locally)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="ocs-admin")
    try:
        for name in sorted(set(topics) - set(admin.list_topics())):
            try:
                # Records go only once read and old: `infra.kafka_retention`, not the broker's own retention.
                config = {"retention.ms": "-1"}
                admin.create_topics([NewTopic(name, partitions, replication_factor=-1, topic_configs=config)])
            except TopicAlreadyExistsError:  # another process created it meanwhile
                pass
    finally:
        admin.close()


def widen_empty_topics(bootstrap: str, topics, partitions: int) -> dict[str, int]:
    """Give each topic that has fewer than `partitions` partitions and no message the rest, and answer the topics
    still narrower than that with their counts. Only the relay, the one writer, calls this, before it reads the
    counts it partitions by; a topic that holds messages keeps its count, since more partitions would move keys, and
    so reorder an aggregate's events (docs/operations.md says how to widen one by hand)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="ocs-admin")
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, allow_auto_create_topics=False)
    try:
        counts = {topic["name"]: len(topic["partitions"]) for topic in admin.describe_topics(sorted(set(topics)))}
        narrow = [topic for topic, count in counts.items() if count < partitions]
        empty = []
        for topic in narrow:
            ends = consumer.end_offsets([TopicPartition(topic, p) for p in range(counts[topic])])
            if not any(ends.values()):
                empty.append(topic)
        if empty:
            admin.create_partitions({topic: NewPartitions(total_count=partitions) for topic in empty})
            for topic in empty:
                log.warning(
                    "topic %s had %d partitions and no message: widened to %d", topic, counts[topic], partitions
                )
                counts[topic] = partitions
        still = {topic: counts[topic] for topic in narrow if counts[topic] < partitions}
        for topic, count in still.items():
            log.warning(
                "topic %s has %d partitions, not %d: it holds messages, so it is left as it is",
                topic,
                count,
                partitions,
            )
        return still
    finally:
        consumer.close()
        admin.close()


def make_producer(
    bootstrap: str,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    encodes_envelopes: bool = True,
    max_block_ms: int = 10_000,
) -> KafkaProducer:
    """`encodes_envelopes=False`: values are sent as the bytes given (the relay encodes each envelope itself).
    `max_block_ms`: how long a send waits for a broker, not kafka-python's minute (the relay beats between tries)."""
    return KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        max_request_size=max_message_bytes,
        max_block_ms=max_block_ms,
        allow_auto_create_topics=False,
        linger_ms=2,
        metrics_enabled=CLIENT_METRICS,
        # Retries cannot reorder one partition's messages with a single request in flight.
        max_in_flight_requests_per_connection=1,
        value_serializer=EnvelopeJson() if encodes_envelopes else None,
    )


def group_instance_id(group: str, instance: str) -> str:
    return f"{group}@{instance}"


def make_consumer(bootstrap: str, group: str, topics) -> KafkaConsumer:
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        # Static membership: a member restarted after a crash takes its partitions straight back, instead of
        # the group waiting for the dead member to time out (the local broker never times it out at all: a
        # member that is gone for good is removed by infra/group_members.py).
        group_instance_id=group_instance_id(group, instance_id()),
        # Apache Kafka removes a member silent this long (the least its brokers accept by default), and its
        # partitions wait for it until then (infra/group_members.py does it on the local broker).
        session_timeout_ms=6_000,
        # Members learn of a rebalance at their next heartbeat: a second, not kafka-python's three.
        heartbeat_interval_ms=1_000,
        # Also the rebalance timeout: how long a group waits for its members to rejoin. On the local broker a replica
        # killed in the middle of a rebalance and restarted under its id makes the group wait it out once (a ~30 s
        # stall; rebalances last about a second since `Poller` takes up every join); a projector polls at least every
        # ~10 s (projectors/runner.py BATCH_BUDGET_S), and a worker keeps polling with all its slots busy.
        max_poll_interval_ms=30_000,
        enable_auto_commit=False,
        allow_auto_create_topics=False,
        auto_offset_reset="earliest",
        metrics_enabled=CLIENT_METRICS,
        max_poll_records=500,
        receive_message_max_bytes=RECEIVE_MAX_BYTES,
        value_deserializer=EnvelopeJson(),
    )
    consumer.subscribe(list(topics))
    return consumer


class Poller:
    """`pace_s`: at least this long from one poll to the next, for consumers that can wait: one poll costs
    ~1.7 ms of CPU with 8 partitions (kafka-python 3.0, answered or not), so a consumer that takes what came
    in the last 100 ms in one poll spends a tenth of what polling as fast as records arrive would. `doorbell`:
    idle sleeps end when the relay rings it after publishing (`infra.doorbells`), and a ring that came while the
    consumer was busy makes its next poll wait for those records, which a 1 ms poll would end before (a reply
    published while the projector wrote the user's message waited for a second poll)."""

    def __init__(self, consumer: KafkaConsumer, pace_s: float = 0.0, doorbell: Doorbell | Unwired = UNWIRED):
        self.consumer = consumer
        self.pace_s = pace_s
        self.doorbell = doorbell
        self.idle_sleep = IDLE_SLEEP_MIN_S
        self.poll_timeout_ms = POLL_TIMEOUT_MS
        self.last_poll = 0.0
        self.last_record = time.monotonic()

    def poll(self) -> list:
        """The next batch of records across assigned partitions, in each partition's order ([] when idle)."""
        if not self.joined():
            return []
        if self.pace_s:
            time.sleep(max(0.0, self.last_poll + self.pace_s - time.monotonic()))
            self.last_poll = time.monotonic()
        timeout_ms, self.poll_timeout_ms = self.poll_timeout_ms, POLL_TIMEOUT_MS
        if self.doorbell.wait(0):
            timeout_ms = RUNG_POLL_TIMEOUT_MS
        records = self.records(self.consumer.poll(timeout_ms=timeout_ms))
        if not self.joined():  # the poll heard of a rebalance and began a join: awaited now, not after a sleep
            return records
        if not records and not self.pace_s:  # a paced consumer has waited before polling already
            if self.doorbell.wait(self.idle_sleep):
                self.poll_timeout_ms = RUNG_POLL_TIMEOUT_MS
            deep = time.monotonic() - self.last_record > DEEP_IDLE_AFTER_S
            self.idle_sleep = min(self.idle_sleep * 2, DEEP_IDLE_SLEEP_S if deep else IDLE_SLEEP_MAX_S)
        return records

    def joined(self) -> bool:
        """Whether the member is in its stable group, after waiting up to JOIN_WAIT_S for a join it needs.

        kafka-python 3.0.12 runs a JoinGroup (and its SyncGroup) as a task that outlives a poll which stops waiting
        for it, and a poll that finds that task already done sends a new JoinGroup instead of taking up its result.
        Each such duplicate starts another rebalance for every member, and the local broker can lose a member's
        duplicate join: it then leaves that member out of the next generation while still answering it, so the
        member is stable with no partitions and the group waits the rebalance timeout (seen: a 1 ms poll began a
        join, the member slept while it completed, and its group stalled for 30 s and then for good). So a join is
        awaited in one call, from the poll that needs it, not over several short polls.

        A member whose join kafka-python lost is also asked to join again: when the only reason to rejoin was the
        group leader's stale view of the topics (a restarted replica that leads before it has read their metadata),
        the leader's own assignment clears it while the join is in flight, and the member would never heartbeat or
        join again. kafka-python has no public calls for either, hence its coordinator."""
        coordinator = self.consumer._coordinator
        deadline = time.monotonic() + JOIN_WAIT_S
        while (left_s := deadline - time.monotonic()) > 0:
            if coordinator.need_rejoin():
                coordinator.poll(timeout_ms=int(left_s * 1000) + 1)
            elif self.consumer.group_metadata().state is MemberState.STABLE:
                return True
            else:
                coordinator.request_rejoin()
        return False

    def records(self, batches: dict) -> list:
        if batches:
            self.idle_sleep = IDLE_SLEEP_MIN_S
            self.last_record = time.monotonic()
        return [record for records in batches.values() for record in records]


def held_partitions(consumer: KafkaConsumer) -> list[str]:
    """The partitions a group member holds now, as `<topic>-<partition>`, for its heartbeat."""
    return sorted(f"{tp.topic}-{tp.partition}" for tp in consumer.assignment())


def tail(bootstrap: str, topic: str) -> tuple[int, dict[int, dict]]:
    """(the topic's partition count, the last message of each non-empty partition, decoded)."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        allow_auto_create_topics=False,
        value_deserializer=EnvelopeJson(),
    )
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not partitions:
            return 0, {}
        consumer.assign(partitions)
        ends = consumer.end_offsets(partitions)
        firsts = consumer.beginning_offsets(partitions)
        wanted = {tp for tp in partitions if ends[tp] > firsts[tp]}  # records removed by retention are not there
        for tp in wanted:
            consumer.seek(tp, ends[tp] - 1)
        found: dict[int, dict] = {}
        deadline = time.monotonic() + 30
        while len(found) < len(wanted) and time.monotonic() < deadline:
            for tp, records in consumer.poll(timeout_ms=100).items():
                if records:
                    found[tp.partition] = records[-1].value
        if len(found) < len(wanted):
            raise TimeoutError(f"could not read the tail of {topic}")
        return len(partitions), found
    finally:
        consumer.close()
