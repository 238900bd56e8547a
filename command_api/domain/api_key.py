"""API key: `<prefix>.<secret>`; only a hash of the secret is recorded. Its id is derived from the prefix.
It acts as one user of its team, with that user's roles, until it is revoked or expires."""

from uuid import UUID

from command_api.domain.base import OcsAggregate
from schemas.ids import derived_id
from schemas.roles import DEFAULT_ROLE


class ApiKey(OcsAggregate):
    class Created(OcsAggregate.Created):
        prefix: str
        secret_hash: str
        name: str
        user: str
        read_only: bool
        roles: list
        expires_at: str | None

    class Revoked(OcsAggregate.Event):
        def apply(self, key: "ApiKey") -> None:
            key.revoked = True

    def __init__(
        self,
        id: UUID,
        team: str,
        prefix: str,
        secret_hash: str,
        name: str,
        user: str,
        read_only: bool,
        roles: list = (DEFAULT_ROLE,),  # keys recorded before roles existed act as the team's owner
        expires_at: str | None = None,
    ):
        self.team = team
        self.prefix = prefix
        self.secret_hash = secret_hash
        self.name = name
        self.user = user
        self.read_only = read_only
        self.roles = list(roles)
        self.expires_at = expires_at
        self.revoked = False

    def revoke(self) -> None:
        if not self.revoked:
            self.trigger_event(self.Revoked)


def api_key_id(prefix: str) -> UUID:
    return derived_id("api_key", prefix)
