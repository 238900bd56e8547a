"""How long the broker keeps records: a window, and never a record a consumer group of ours has yet to handle.

The event store keeps every event and the read models are rebuilt from it, so the broker's topics only carry
events on their way. The local broker holds every record in memory (~3.5 KB an event, measured at 400k events), so
keeping them all made it grow with the data. Topics are created with `retention.ms=-1` (`infra.kafka.ensure_topics`),
so that no broker removes a record on its own, and the relay removes, every TRIM_EVERY_S, the records that are older
than the window (`OCS_KAFKA_RETENTION_MS`) and that every group reading the topic has committed past (Kafka's own
`retention.ms` would remove them whether read or not: a projector down longer than the window would skip events).
Each partition's last record always stays: the relay resumes after the partitions' last records (`command_api.relay`).
DeleteRecords is Kafka's own admin request (Apache Kafka has it since 0.11; measured here on the local broker only).
"""

import logging
import time

from kafka import KafkaAdminClient, TopicPartition
from kafka.admin import OffsetSpec

log = logging.getLogger(__name__)

# How often the relay looks for records to remove.
TRIM_EVERY_S = 10.0
# A window of -1 keeps every record (Kafka's own spelling).
KEEP_EVERYTHING = -1


class Retention:
    """`readers`: each topic this removes records from, with the consumer groups that must have handled a record
    first (none for a topic only read live, such as the reply deltas)."""

    def __init__(self, bootstrap: str, window_ms: int, readers: dict[str, tuple[str, ...]]):
        self.bootstrap = bootstrap
        self.window_ms = window_ms
        self.readers = readers
        self.last_trim = 0.0

    def trim_when_due(self) -> None:
        if self.window_ms == KEEP_EVERYTHING or time.monotonic() - self.last_trim < TRIM_EVERY_S:
            return
        self.last_trim = time.monotonic()
        try:
            self.trim()
        except Exception as exc:  # the next round tries again; the relay's work goes on meanwhile
            log.warning("could not remove old records: %r", exc)

    def trim(self) -> dict[TopicPartition, int]:
        """Remove what may go; answers each partition trimmed with its new first offset."""
        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, client_id="ocs-retention")
        try:
            names = set(admin.list_topics())
            described = admin.describe_topics(sorted(names & set(self.readers)))
            counts = {topic["name"]: len(topic["partitions"]) for topic in described}
            partitions = [TopicPartition(topic, p) for topic, count in counts.items() for p in range(count)]
            if not partitions:
                return {}
            firsts = offsets(admin, {tp: OffsetSpec.EARLIEST for tp in partitions})
            ends = offsets(admin, {tp: OffsetSpec.LATEST for tp in partitions})
            # The first record inside the window (-1 where every record is older: then up to the end may go).
            cutoff_ms = int(time.time() * 1000) - self.window_ms
            in_window = offsets(admin, {tp: cutoff_ms for tp in partitions})
            groups = sorted({group for topic in counts for group in self.readers[topic]})
            committed = admin.list_group_offsets(groups) if groups else {}
            removable = {}
            for tp in partitions:
                keep_from = min(ends[tp] - 1, in_window[tp] if in_window[tp] >= 0 else ends[tp])
                for group in self.readers[tp.topic]:
                    handled = committed.get(group, {}).get(tp)
                    keep_from = min(keep_from, handled.offset if handled is not None else 0)
                if keep_from > firsts[tp]:
                    removable[tp] = keep_from
            if removable:
                admin.delete_records(removable)
                log.info("removed %d old records", sum(removable[tp] - firsts[tp] for tp in removable))
            return removable
        finally:
            admin.close()


def offsets(admin: KafkaAdminClient, specs: dict) -> dict[TopicPartition, int]:
    return {tp: answer.offset for tp, answer in admin.list_partition_offsets(specs).items()}
