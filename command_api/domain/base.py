"""The base aggregate: every event names the team it belongs to, so subscribers can filter by tenant."""

from datetime import datetime, timezone

from eventsourcing.domain import Aggregate


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
