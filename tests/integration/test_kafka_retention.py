"""The broker's records go once old and handled by every group that reads them, never a partition's last one
(`infra.kafka_retention`); the relay still resumes exactly after what the broker holds."""

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType
from kafka.structs import OffsetAndMetadata

from infra.kafka import PROJECTORS_GROUP, REPLIES_GROUP
from infra.kafka_retention import Retention
from schemas.events import TOPICS
from tests.integration.conftest import record_workload

SESSIONS = TOPICS["ChatSession"]


def offsets(bootstrap: str, which: str) -> dict[TopicPartition, int]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, allow_auto_create_topics=False)
    try:
        partitions = [TopicPartition(t, p) for t in set(TOPICS.values()) for p in consumer.partitions_for_topic(t)]
        return getattr(consumer, f"{which}_offsets")(partitions)
    finally:
        consumer.close()


def commit(bootstrap: str, group: str, positions: dict[TopicPartition, int]) -> None:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        consumer.commit({tp: OffsetAndMetadata(offset, "", -1) for tp, offset in positions.items()})
    finally:
        consumer.close()


def test_read_old_records_go_but_each_partitions_last_and_what_a_group_has_not_read_stay(servers):
    system = servers.system
    bootstrap = system.settings.kafka_bootstrap
    relay = system.relay()
    try:
        relay.resume()
        record_workload(system, sessions=12)
        while relay.publish_once():
            pass
    finally:
        relay.close_clients()
    ends = offsets(bootstrap, "end")
    held = {tp: end for tp, end in ends.items() if end}
    # The projectors have handled everything; the workers all of the sessions topic but one partition's first record.
    behind = min(tp for tp in held if tp.topic == SESSIONS)
    commit(bootstrap, PROJECTORS_GROUP, held)
    commit(bootstrap, REPLIES_GROUP, {tp: end for tp, end in held.items() if tp.topic == SESSIONS} | {behind: 1})
    readers = system.retention().readers

    assert Retention(bootstrap, 3_600_000, readers).trim() == {}  # nothing is an hour old yet
    trimmed = Retention(bootstrap, 0, readers).trim()

    firsts = offsets(bootstrap, "beginning")
    assert firsts[behind] == 1
    assert all(firsts[tp] == end - 1 for tp, end in held.items() if tp != behind)
    assert set(trimmed) == {tp for tp, end in held.items() if end > 1} and offsets(bootstrap, "end") == ends
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, SESSIONS)])["topic"][SESSIONS]
    finally:
        admin.close()
    assert described["retention.ms"]["value"] == "-1"  # no broker removes a record on its own

    # A relay started afterwards resumes after the partitions' last records: it sends nothing again.
    recorded = system.app.recorder.max_notification_id()
    record_workload(system, sessions=1)
    relay = system.relay()
    try:
        relay.resume()
        while relay.publish_once():
            pass
    finally:
        relay.close_clients()
    sent = sum(end - ends[tp] for tp, end in offsets(bootstrap, "end").items())
    assert sent == system.app.recorder.max_notification_id() - recorded
