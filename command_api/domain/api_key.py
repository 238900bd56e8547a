"""API key: `<prefix>.<secret>`; only a hash of the secret is recorded. Its id is derived from the prefix."""

from uuid import UUID

from command_api.domain.base import OcsAggregate, derived_id


class ApiKey(OcsAggregate):
    class Created(OcsAggregate.Created):
        prefix: str
        secret_hash: str
        name: str
        user: str
        read_only: bool

    class Revoked(OcsAggregate.Event):
        def apply(self, key: "ApiKey") -> None:
            key.revoked = True

    def __init__(self, id: UUID, team: str, prefix: str, secret_hash: str, name: str, user: str, read_only: bool):
        self.team = team
        self.prefix = prefix
        self.secret_hash = secret_hash
        self.name = name
        self.user = user
        self.read_only = read_only
        self.revoked = False

    def revoke(self) -> None:
        if not self.revoked:
            self.trigger_event(self.Revoked)


def api_key_id(prefix: str) -> UUID:
    return derived_id("api_key", prefix)
