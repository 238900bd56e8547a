"""Topics have their partitions before any consumer names them, and one a broker created too narrow is widened
while it is still empty, or reported once it holds messages (never widened then: keys would move)."""

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer

from infra.kafka import ensure_topics, widen_empty_topics
from infra.wiring.local_servers import LocalKafka

PARTITIONS = 8


@pytest.fixture(scope="module")
def bootstrap(tmp_path_factory):
    kafka = LocalKafka(tmp_path_factory.mktemp("kafka")).start()
    yield kafka.bootstrap
    kafka.stop()


def partitions_of(bootstrap: str, topic: str) -> int:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        return len(admin.describe_topics([topic])[0]["partitions"])
    finally:
        admin.close()


def subscribe_briefly(bootstrap: str, topic: str) -> None:
    """What a group consumer does: the local broker creates a missing topic it subscribes to, with one partition."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=f"g-{topic}", allow_auto_create_topics=False)
    consumer.subscribe([topic])
    for _ in range(20):
        consumer.poll(timeout_ms=100)
    consumer.close()


def test_topics_ensured_before_a_consumer_subscribes_have_their_partitions(bootstrap):
    ensure_topics(bootstrap, ["ensured"], PARTITIONS)
    subscribe_briefly(bootstrap, "ensured")
    assert partitions_of(bootstrap, "ensured") == PARTITIONS


def test_an_empty_topic_a_consumer_created_too_narrow_is_widened(bootstrap):
    subscribe_briefly(bootstrap, "narrow-empty")
    assert partitions_of(bootstrap, "narrow-empty") == 1
    assert widen_empty_topics(bootstrap, ["narrow-empty"], PARTITIONS) == {}
    assert partitions_of(bootstrap, "narrow-empty") == PARTITIONS


def test_a_narrow_topic_that_holds_messages_is_reported_and_left_as_it_is(bootstrap):
    subscribe_briefly(bootstrap, "narrow-full")
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    producer.send("narrow-full", b"an event").get(30)
    producer.close()
    assert widen_empty_topics(bootstrap, ["narrow-full"], PARTITIONS) == {"narrow-full": 1}
    assert partitions_of(bootstrap, "narrow-full") == 1
