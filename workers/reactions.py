"""Every reaction of the workers to an event, in one table: the event type, the consumer group that reacts, and
what it does (and records when it cannot). The projections' table is `projectors.projections.PROJECTIONS`; so who
reacts to a user's message is `PROJECTIONS` and `REACTIONS` at its type."""

from collections.abc import Callable
from dataclasses import dataclass

from infra.kafka import REPLIES_GROUP
from schemas import events
from schemas.events import TOPICS
from workers.replies import ReplyProducer


@dataclass(frozen=True)
class Reaction:
    group: str
    react: Callable  # (reactor, envelope): the group's reactor's method
    give_up: Callable  # (reactor, envelope, error): records that the reaction could not be done


REACTIONS: dict[str, Reaction] = {
    events.CHAT_SESSION_USER_MESSAGE_SUBMITTED: Reaction(
        REPLIES_GROUP, ReplyProducer.answer_submitted, ReplyProducer.record_failure
    ),
    events.CHAT_SESSION_BOT_MESSAGE_REQUESTED: Reaction(
        REPLIES_GROUP, ReplyProducer.send_requested, ReplyProducer.record_failure
    ),
}


class GroupReactions:
    """One consumer group's part of the table, done by its reactor (a ReplyProducer): the
    `handle` and `give_up` of its Worker; events the group does not react to change nothing."""

    def __init__(self, group: str, reactor):
        self.group = group
        self.reactor = reactor
        self.table = {event_type: r for event_type, r in REACTIONS.items() if r.group == group}

    @property
    def topics(self) -> list[str]:
        return topics_of(self.group)

    def handle(self, envelope: dict) -> None:
        reaction = self.table.get(envelope["type"])
        if reaction is not None:
            reaction.react(self.reactor, envelope)

    def give_up(self, envelope: dict, error: Exception) -> None:
        reaction = self.table.get(envelope["type"])
        if reaction is not None:
            reaction.give_up(self.reactor, envelope, error)


def topics_of(group: str) -> list[str]:
    """The topics of the events `group` reacts to."""
    return sorted({TOPICS[event_type.split(".")[0]] for event_type, r in REACTIONS.items() if r.group == group})
