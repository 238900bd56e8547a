"""The base aggregate: every event names the team it belongs to, so subscribers can filter by tenant."""

from eventsourcing.domain import Aggregate


class OcsAggregate(Aggregate):
    team: str

    class Event(Aggregate.Event):
        team: str

    class Created(Event, Aggregate.Created):
        pass

    def trigger_event(self, event_class, **kwargs):
        super().trigger_event(event_class, team=self.team, **kwargs)
