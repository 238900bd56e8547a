"""The write model's application: aggregates stored in the event store, and its log read as envelopes."""

from collections.abc import Iterator
from pathlib import Path
from uuid import uuid5

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import CanMutateAggregate

from command_api.domain.base import utc_iso
from command_api.domain.chat_session import ChatSession
from command_api.event_store import event_store_environment
from infra.file_store import FileStore
from schemas.events import PAYLOAD_SCHEMAS, SCHEMA_VERSIONS, TOPICS

__all__ = ["AggregateNotFoundError", "OcsApplication", "to_envelope"]


class OcsApplication(Application):
    """The write model: events in the event store, and the bytes of uploaded files beside them."""

    name = "ocs"
    # Long chat sessions are loaded from a snapshot plus the events after it.
    snapshotting_intervals = {ChatSession: 50}

    def __init__(self, event_store_url: str, files_dir: Path):
        self.files = FileStore(files_dir)
        super().__init__(
            env={
                **event_store_environment(event_store_url),
                # The aggregate cache is fast-forwarded on every get, so writes by another process
                # (the admin CLI, a second API replica) are seen before a decision is made.
                "AGGREGATE_CACHE_MAXSIZE": "10000",
                "AGGREGATE_CACHE_FASTFORWARD": "y",
            }
        )

    def envelopes(self, after: int, limit: int) -> list[dict]:
        """Up to `limit` events recorded after log position `after`, as the envelopes subscribers see."""
        notifications = self.recorder.select_notifications(start=after + 1, limit=limit)
        return [to_envelope(self.mapper.to_domain_event(n), n.id) for n in notifications]

    def all_envelopes(self, page_size: int = 1000) -> Iterator[dict]:
        position = 0
        while page := self.envelopes(position, page_size):
            yield from page
            position = page[-1]["position"]


def to_envelope(event: CanMutateAggregate, position: int) -> dict:
    event_type = type(event).__qualname__
    aggregate_type = event_type.split(".")[0]
    assert aggregate_type in TOPICS, event_type
    return {
        "event_id": str(uuid5(event.originator_id, str(event.originator_version))),
        "type": event_type,
        "schema_version": SCHEMA_VERSIONS[event_type],
        "occurred_at": utc_iso(event.timestamp),
        "team": event.team,
        "aggregate_type": aggregate_type,
        "aggregate_id": str(event.originator_id),
        "aggregate_version": event.originator_version,
        "position": position,
        "data": PAYLOAD_SCHEMAS[event_type].dump(event),
    }
