"""Raw ceilings of the local servers, measured with the same client libraries the stack uses (kafka-python,
pymongo) on a topic and a database of their own; and the projector's throughput on a backlog.
"""

import json
import time
from uuid import uuid4

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from pymongo import MongoClient, UpdateOne

from projectors.projections import writes_for
from schemas.events import TOPICS

RAW_TOPIC = "bench.raw"
RAW_DB = "bench_raw"
PARTITIONS = 8
# Close to a relayed envelope (a chat message event is ~400-600 bytes of JSON).
PAYLOAD = json.dumps({"type": "ChatSession.ReplyRecorded", "data": {"content": "x" * 300}}).encode()
PROJECTOR_GROUP = "ocs-projectors"


def rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else 0.0


def kafka_produce_consume(bootstrap: str, count: int) -> dict:
    """Produce `count` messages with the relay's settings (acks=all), then consume them all back."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="bench")
    try:
        admin.create_topics([NewTopic(RAW_TOPIC, num_partitions=PARTITIONS, replication_factor=1)])
    finally:
        admin.close()
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    keys = [uuid4().hex.encode() for _ in range(256)]
    began = time.perf_counter()
    for n in range(count):
        producer.send(RAW_TOPIC, key=keys[n % len(keys)], value=PAYLOAD)
    producer.flush()
    produce_s = time.perf_counter() - began
    producer.close()

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, max_poll_records=500)
    partitions = [TopicPartition(RAW_TOPIC, p) for p in range(PARTITIONS)]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    received = 0
    began = time.perf_counter()
    deadline = time.monotonic() + 120
    while received < count and time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=100).values():
            received += len(records)
    consume_s = time.perf_counter() - began
    consumer.close()
    # noida-db keeps its data in one file that is rewritten as it grows: leave nothing behind for the load.
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="bench")
    try:
        admin.delete_topics([RAW_TOPIC])
    finally:
        admin.close()
    return {
        "messages": count,
        "message_bytes": len(PAYLOAD),
        "produce_per_s": rate(count, produce_s),
        "producer_settings": "acks=all, linger_ms=5 (kafka-python defaults otherwise)",
        "consume_per_s": rate(received, consume_s),
        "consumed": received,
    }


def mongo_upserts(mongo_url: str, single: int, bulk: int, batch: int = 500) -> dict:
    """Single `update_one(upsert)` calls, then `bulk_write` of upserts in batches, into a database of its own."""
    client = MongoClient(mongo_url, serverSelectionTimeoutMS=5000)
    try:
        collection = client[RAW_DB]["upserts"]
        collection.drop()
        collection.create_index([("session_id", 1), ("created_at", 1)])

        def doc(n: int) -> dict:
            return {
                "session_id": f"s{n % 1000}",
                "created_at": f"2025-01-01T00:00:{n:012d}Z",
                "role": "assistant",
                "content": "x" * 200,
                "version": n,
            }

        began = time.perf_counter()
        for n in range(single):
            collection.update_one({"_id": f"single-{n}"}, {"$set": doc(n)}, upsert=True)
        single_s = time.perf_counter() - began

        began = time.perf_counter()
        for start in range(0, bulk, batch):
            collection.bulk_write(
                [
                    UpdateOne({"_id": f"bulk-{n}"}, {"$set": doc(n)}, upsert=True)
                    for n in range(start, min(start + batch, bulk))
                ],
                ordered=True,
            )
        bulk_s = time.perf_counter() - began
        client.drop_database(RAW_DB)
    finally:
        client.close()
    return {
        "single_upserts": single,
        "single_upserts_per_s": rate(single, single_s),
        "bulk_upserts": bulk,
        "bulk_batch": batch,
        "bulk_upserts_per_s": rate(bulk, bulk_s),
        "document": "a message-like document (~300 bytes) in a collection with one secondary index",
    }


def committed_total(admin: KafkaAdminClient, group: str) -> int:
    """Offsets the group has committed across every partition (the projector commits after MongoDB has the
    batch, so on a fresh broker this is the number of events it has applied)."""
    offsets = admin.list_group_offsets({group: None}).get(group, {})
    return sum(meta.offset for meta in offsets.values() if meta.offset > 0)


def published_total(consumer: KafkaConsumer) -> int:
    """Events the relay has published: the sum of every event topic's end offsets."""
    topics = set(TOPICS.values())
    if not all(consumer.partitions_for_topic(t) for t in topics):
        consumer.topics()  # fresh metadata, so topics the relay created meanwhile are known
    partitions = [TopicPartition(t, p) for t in topics for p in (consumer.partitions_for_topic(t) or ())]
    return sum(consumer.end_offsets(partitions).values()) if partitions else 0


def writes_per_event(envelopes) -> tuple[int, int]:
    """(events, MongoDB writes the projections make for them): the projector's write amplification."""
    events = writes = 0
    for envelope in envelopes:
        events += 1
        writes += len(writes_for(envelope))
    return events, writes


def drain_timeline(
    bootstrap: str, expected: int, errors: dict, timeout_s: float = 300, interval_s: float = 0.2
) -> list[tuple]:
    """Samples of (seconds, events published by the relay, events committed by the projector) until the
    projector has committed `expected` events."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="bench-progress")
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    samples = []
    began = time.monotonic()
    try:
        while time.monotonic() - began < timeout_s:
            try:
                published, committed = published_total(consumer), committed_total(admin, PROJECTOR_GROUP)
            except Exception as exc:  # the group or topics may not exist yet while the stack starts
                errors[repr(exc)[:200]] = errors.get(repr(exc)[:200], 0) + 1
                published, committed = 0, 0
            samples.append((time.monotonic() - began, published, committed))
            if committed >= expected:
                break
            time.sleep(interval_s)
    finally:
        admin.close()
        consumer.close()
    return samples


def busy_rate(samples: list[tuple], index: int, expected: int) -> dict:
    """The rate of one progress column while it moves: from its first sample above 5 % of `expected` to
    the first at or above 95 % (start-up and the last partial batch left out)."""
    low = next((s for s in samples if s[index] >= 0.05 * expected), None)
    high = next((s for s in samples if s[index] >= 0.95 * expected), None)
    if not low or not high or high[0] <= low[0]:
        return {"per_s": None, "seconds": None}
    return {"per_s": rate(high[index] - low[index], high[0] - low[0]), "seconds": round(high[0] - low[0], 2)}


def projector_throughput(bootstrap: str, expected_events: int, mongo_writes: int) -> dict:
    errors: dict = {}
    samples = drain_timeline(bootstrap, expected_events, errors)
    projector = busy_rate(samples, 2, expected_events)
    relay = busy_rate(samples, 1, expected_events)
    # When the relay is barely ahead, the projector is waiting for it and its rate is a lower bound.
    lags = [published - committed for _, published, committed in samples if committed < 0.95 * expected_events]
    per_s = projector["per_s"]
    return {
        "events": expected_events,
        "mongo_writes": mongo_writes,
        "writes_per_event": round(mongo_writes / expected_events, 2) if expected_events else None,
        "events_per_s": per_s,
        "mongo_writes_per_s": round(per_s * mongo_writes / expected_events, 1) if per_s else None,
        "relay_events_per_s": relay["per_s"],
        "max_backlog_events": max(lags) if lags else 0,
        "busy_seconds": projector["seconds"],
        "completed": bool(samples) and samples[-1][2] >= expected_events,
        "sampling_errors": errors,
        "timeline": [(round(t, 2), p, c) for t, p, c in samples[:: max(1, len(samples) // 60)]],
    }
