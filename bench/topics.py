"""Reading a whole topic of the stack's broker once the load is over, for what its records' timestamps tell."""

from collections.abc import Iterator

from kafka import KafkaConsumer, TopicPartition


def every_record(bootstrap: str, topic: str) -> Iterator:
    """Every record the topic holds, each partition in order (`record.timestamp`: the producer's wall clock, ms, when
    it was handed the record)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, max_poll_records=5000)
    try:
        partitions = [TopicPartition(topic, n) for n in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        ends = consumer.end_offsets(partitions)
        while any(consumer.position(tp) < ends[tp] for tp in partitions):
            for records in consumer.poll(timeout_ms=500).values():
                yield from records
    finally:
        consumer.close()
