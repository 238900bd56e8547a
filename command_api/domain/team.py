"""Team: the isolation boundary. Its id is derived from its slug, so a slug is taken once."""

from uuid import UUID

from command_api.domain.base import OcsAggregate
from schemas.ids import derived_id


class Team(OcsAggregate):
    class Created(OcsAggregate.Created):
        name: str

    def __init__(self, id: UUID, team: str, name: str):
        self.team = team
        self.name = name


def team_id(slug: str) -> UUID:
    return derived_id("team", slug)
