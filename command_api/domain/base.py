"""The base aggregate: every event names the team it belongs to, so subscribers can filter by tenant."""

from datetime import datetime, timezone
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

# Namespace for ids derived from natural keys (team slug, key prefix, ...):
# deriving them makes "create" unique on the write model without a lookup table.
OCS_NAMESPACE = uuid5(NAMESPACE_URL, "https://openchatstudio.com/ocs-cqrs")


def derived_id(kind: str, *parts: str) -> UUID:
    return uuid5(OCS_NAMESPACE, ":".join((kind, *parts)))


class OcsAggregate(Aggregate):
    team: str

    class Event(Aggregate.Event):
        team: str

    class Created(Event, Aggregate.Created):
        pass

    def trigger_event(self, event_class, **kwargs):
        super().trigger_event(event_class, team=self.team, **kwargs)


def utc_iso(instant: datetime) -> str:
    """The one text form of an instant: UTC, microseconds, `Z`; as OCS renders it, and sortable as text."""
    return instant.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
