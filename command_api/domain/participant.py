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

    def __init__(self, id: UUID, team: str, identifier: str, platform: str, name: str, remote_id: str, user: str | None):
        self.team = team
        self.identifier = identifier
        self.platform = platform
        self.name = name
        self.remote_id = remote_id
        self.user = user


def participant_id(team: str, platform: str, identifier: str) -> UUID:
    return derived_id("participant", team, platform, identifier)
