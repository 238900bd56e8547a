"""Loading an aggregate by id and kind: the one way every command handler, and the workers, fetch one."""

from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from command_api.write_model.application import OcsApplication


def load(app: OcsApplication, aggregate_id, kind: type):
    """The aggregate of that kind with that id, or None (also for an id that is no UUID, or names another kind)."""
    try:
        aggregate = app.repository.get(UUID(str(aggregate_id)))
    except (AggregateNotFoundError, ValueError):
        return None
    return aggregate if isinstance(aggregate, kind) else None
