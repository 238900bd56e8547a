"""The write model's application: aggregates stored in the event store, and its log read as envelopes.

Nothing is recorded that could not be published: before a save, each new event is rendered as the envelope the
relay will send, and a save whose envelope would not fit in one broker message (or could not be encoded at all)
is refused whole, so a client's oversized request gets a 413 instead of jamming the relay for everyone.
"""

from collections.abc import Callable, Iterator
from pathlib import Path
from uuid import uuid5

from eventsourcing.application import Application
from eventsourcing.domain import CanMutateAggregate
from eventsourcing.persistence import Transcoder

from command_api.domain.chat_session import ChatSession
from command_api.write_model.event_store import event_store_environment
from command_api.write_model.transcoding import ClientSafeJSONTranscoder
from infra.file_store import FileStore
from infra.kafka import DEFAULT_MAX_MESSAGE_BYTES, EnvelopeJson, max_event_bytes
from schemas.errors import ApiError
from schemas.events import PAYLOAD_SCHEMAS, SCHEMA_VERSIONS, TOPICS
from schemas.instants import utc_iso

__all__ = ["EventTooLarge", "OcsApplication", "to_envelope"]

# The largest log position an envelope can carry, so the size checked is never below the size published.
LARGEST_POSITION = 2**63 - 1


class EventTooLarge(ApiError):
    """A change too large to record as one event (413, in the SPEC's E1 shape)."""

    def __init__(self, size: int, limit: int):
        super().__init__(
            413, {"detail": f"Request is too large to record: it makes a {size}-byte event, the most is {limit}."}
        )


class OcsApplication(Application):
    """The write model: events in the event store, and the bytes of uploaded files beside them."""

    name = "ocs"
    # Long chat sessions are loaded from a snapshot plus the events after it.
    snapshotting_intervals = {ChatSession: 50}

    def __init__(
        self,
        event_store_url: str,
        files_dir: Path,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        after_commit: Callable[[], None] | None = None,
    ):
        """`after_commit`: called once events are in the store, to tell the relay at once (`infra.doorbells`)."""
        self.after_commit = after_commit
        self.files = FileStore(files_dir)
        self.max_event_bytes = max_event_bytes(max_message_bytes)
        self.envelope_json = EnvelopeJson()
        super().__init__(
            env={
                **event_store_environment(event_store_url),
                # The aggregate cache is fast-forwarded on every get, so writes by another process
                # (the admin CLI, a second API replica) are seen before a decision is made.
                "AGGREGATE_CACHE_MAXSIZE": "10000",
                "AGGREGATE_CACHE_FASTFORWARD": "y",
            }
        )

    def construct_transcoder(self) -> Transcoder:
        transcoder = ClientSafeJSONTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def save(self, *aggregates, **kwargs):
        for aggregate in aggregates:
            for event in getattr(aggregate, "pending_events", ()):
                self.check_publishable(event)
        recordings = super().save(*aggregates, **kwargs)
        if self.after_commit and recordings:
            self.after_commit()
        return recordings

    def check_publishable(self, event: CanMutateAggregate) -> None:
        """Raises EventTooLarge for an event whose envelope would not fit in a broker message; an event that cannot
        be encoded at all raises here too (a bug, never client input: that is refused at the API)."""
        size = len(self.envelope_json.serialize(None, None, to_envelope(event, LARGEST_POSITION)))
        if size > self.max_event_bytes:
            raise EventTooLarge(size, self.max_event_bytes)

    def envelopes(self, after: int, limit: int) -> list[dict]:
        """Up to `limit` events recorded after log position `after`, as the envelopes subscribers see."""
        notifications = self.recorder.select_notifications(start=after + 1, limit=limit)
        return [to_envelope(self.mapper.to_domain_event(n), n.id) for n in notifications]

    def log_entries(self, after: int, limit: int) -> list[tuple[dict, str | None]]:
        """Like `envelopes`, each with None, or with why it cannot be read: then the envelope has no `data` (an
        event recorded before the write model refused what it could not read back must not stop the log)."""
        entries = []
        for notification in self.recorder.select_notifications(start=after + 1, limit=limit):
            try:
                entries.append((to_envelope(self.mapper.to_domain_event(notification), notification.id), None))
            except Exception as exc:
                entries.append((unreadable_envelope(notification), f"unreadable event: {exc!r}"))
        return entries

    def all_envelopes(self, page_size: int = 1000) -> Iterator[dict]:
        position = 0
        while page := self.envelopes(position, page_size):
            yield from page
            position = page[-1]["position"]

    def published_envelopes(self, held_back: dict[str, int], page_size: int = 1000) -> Iterator[dict]:
        """The log as the relay publishes it: without the events it parked (`held_back`: aggregate id -> the first
        version parked), nor any it cannot read, nor what follows those in their aggregates."""
        held_back = dict(held_back)
        position = 0
        while page := self.log_entries(position, page_size):
            for envelope, unreadable in page:
                aggregate_id, version = envelope["aggregate_id"], envelope["aggregate_version"]
                if unreadable:
                    held_back.setdefault(aggregate_id, version)
                if version < held_back.get(aggregate_id, version + 1):
                    yield envelope
            position = page[-1][0]["position"]


def unreadable_envelope(notification) -> dict:
    """What the log says of an event that cannot be decoded: where it is and whose it is, but not its data."""
    event_type = notification.topic.rpartition(":")[2]
    return {
        "event_id": str(uuid5(notification.originator_id, str(notification.originator_version))),
        "type": event_type,
        "aggregate_type": event_type.split(".")[0],
        "aggregate_id": str(notification.originator_id),
        "aggregate_version": notification.originator_version,
        "position": notification.id,
    }


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
