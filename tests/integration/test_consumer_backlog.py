"""A consumer far behind catches up on the local Kafka-protocol broker, which answers a fetch with every
partition's whole backlog whatever the fetch limits say (`infra.kafka.RECEIVE_MAX_BYTES`)."""

import pytest
from kafka import KafkaProducer

from infra.kafka import EnvelopeJson, Poller, ensure_topics, make_consumer

PARTITIONS = 8
RECORD = {"padding": "x" * 2000}
RECORD_BYTES = 2015


def catch_up(bootstrap: str, backlog_mb: int) -> int:
    ensure_topics(bootstrap, ["backlog"], PARTITIONS)
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=20, batch_size=512 * 1024, value_serializer=EnvelopeJson()
    )
    records = backlog_mb * 1_000_000 // RECORD_BYTES
    for n in range(records):
        producer.send("backlog", RECORD, partition=n % PARTITIONS)
    producer.flush()
    producer.close()
    consumer = make_consumer(bootstrap, "catching-up", ["backlog"])
    poller = Poller(consumer)
    consumed = polls = 0
    try:
        while consumed < records and polls < 2000:
            consumed += len(poller.poll())
            polls += 1
    finally:
        consumer.close()
    assert consumed == records
    return consumed


def test_a_consumer_behind_catches_up(kafka):
    catch_up(kafka, backlog_mb=5)


@pytest.mark.slow
def test_a_consumer_behind_by_more_than_kafka_pythons_frame_limit_catches_up(kafka):
    # 120 MB of backlog comes back as one 120 MB response; kafka-python's own limit is 100 MB.
    catch_up(kafka, backlog_mb=120)
