"""Participant: one person on one platform of one team; the id is derived from (team, platform, identifier)."""

from uuid import UUID

from command_api.domain.base import OcsAggregate, derived_id


class Participant(OcsAggregate):
    class Created(OcsAggregate.Created):
        identifier: str
        platform: str
        name: str
        remote_id: str
        user: str | None

    class DataChanged(OcsAggregate.Event):
        """This participant's whole data for one chatbot, as it now is."""

        chatbot_id: str
        data: dict

        def apply(self, participant: "Participant") -> None:
            participant.data[self.chatbot_id] = self.data

    def __init__(self, id: UUID, team: str, identifier: str, platform: str, name: str, remote_id: str, user: str | None):
        self.team = team
        self.identifier = identifier
        self.platform = platform
        self.name = name
        self.remote_id = remote_id
        self.user = user
        self.data: dict[str, dict] = {}

    def merge_data(self, chatbot_id: str, data: dict) -> None:
        """Set these keys in the chatbot's data, keeping the others (a shallow merge)."""
        self.trigger_event(self.DataChanged, chatbot_id=chatbot_id, data={**self.data_for(chatbot_id), **data})

    def data_for(self, chatbot_id: str) -> dict:
        return self.data.get(chatbot_id, {})


def participant_id(team: str, platform: str, identifier: str) -> UUID:
    return derived_id("participant", team, platform, identifier)
