"""A browser's sign-in (`POST /api/auth/session/`): a session cookie that acts as the team credential it was opened
with (an API key or an OAuth token), with that credential's user, roles and scopes, for as long as both live. Only a
hash of the cookie's secret is recorded; signing out ends it."""

from datetime import datetime, timedelta
from uuid import UUID

from command_api.domain.base import OcsAggregate


class CookieSession(OcsAggregate):
    class Created(OcsAggregate.Created):
        credential: str
        secret_hash: str
        lifetime_s: int

    class Ended(OcsAggregate.Event):
        def apply(self, session: "CookieSession") -> None:
            session.ended = True

    def __init__(self, id: UUID, team: str, credential: str, secret_hash: str, lifetime_s: int):
        self.team = team
        self.credential = credential
        self.secret_hash = secret_hash
        self.lifetime_s = lifetime_s
        self.ended = False

    @property
    def expires_at(self) -> datetime:
        return self.created_on + timedelta(seconds=self.lifetime_s)

    def end(self) -> None:
        if not self.ended:
            self.trigger_event(self.Ended)
