"""OAuth2 access token, with its refresh token when the grant gives one. Only hashes of their secret parts
are recorded. A machine token (client-credentials grant) has no user and carries its client's chatbot
allowlist; a user token carries the user and roles of the resource owner who consented."""

from datetime import datetime, timedelta
from uuid import UUID

from command_api.domain.base import OcsAggregate

# Refresh tokens outlive access tokens; each refresh replaces both (rotation).
REFRESH_LIFETIME_S = 30 * 24 * 3600


class OAuthToken(OcsAggregate):
    class Created(OcsAggregate.Created):
        client_id: str
        user: str | None
        roles: list
        scopes: list
        chatbots: list | None
        access_hash: str
        refresh_hash: str | None
        expires_in: int

    class Revoked(OcsAggregate.Event):
        def apply(self, token: "OAuthToken") -> None:
            token.revoked = True

    def __init__(
        self,
        id: UUID,
        team: str,
        client_id: str,
        user: str | None,
        roles: list,
        scopes: list,
        chatbots: list | None,
        access_hash: str,
        refresh_hash: str | None,
        expires_in: int,
    ):
        self.team = team
        self.client_id = client_id
        self.user = user
        self.roles = roles
        self.scopes = scopes
        self.chatbots = chatbots
        self.access_hash = access_hash
        self.refresh_hash = refresh_hash
        self.expires_in = expires_in
        self.revoked = False

    @property
    def expires_at(self) -> datetime:
        return self.created_on + timedelta(seconds=self.expires_in)

    def refresh_expired(self, now: datetime) -> bool:
        return now - self.created_on > timedelta(seconds=REFRESH_LIFETIME_S)

    def revoke(self) -> None:
        if not self.revoked:
            self.trigger_event(self.Revoked)
