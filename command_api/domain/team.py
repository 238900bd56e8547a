"""Team: the isolation boundary. Its id is derived from its slug, so a slug is taken once. Its allowed origins are
the web pages (`https://app.example.com`) that may call its API from a browser with credentials (cookie sign-in)."""

from uuid import UUID

from command_api.domain.base import OcsAggregate
from schemas.ids import derived_id


class Team(OcsAggregate):
    class Created(OcsAggregate.Created):
        name: str

    class AllowedOriginsChanged(OcsAggregate.Event):
        origins: list

        def apply(self, team: "Team") -> None:
            team.allowed_origins = list(self.origins)

    def __init__(self, id: UUID, team: str, name: str):
        self.team = team
        self.name = name
        self.allowed_origins: list[str] = []

    def allow_origins(self, origins: list[str]) -> None:
        if origins != self.allowed_origins:
            self.trigger_event(self.AllowedOriginsChanged, origins=origins)


def team_id(slug: str) -> UUID:
    return derived_id("team", slug)
