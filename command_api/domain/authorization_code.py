"""Authorization code (OAuth2 authorization-code grant with PKCE): issued when a resource owner consents,
redeemed once for a token, within `LIFETIME_S`. Only a hash of its secret part is recorded."""

from datetime import datetime, timedelta
from uuid import UUID

from command_api.domain.base import OcsAggregate

# RFC 6749 §4.1.2 recommends at most ten minutes.
LIFETIME_S = 600


class AuthorizationCode(OcsAggregate):
    class Created(OcsAggregate.Created):
        client_id: str
        secret_hash: str
        user: str
        roles: list
        scopes: list
        redirect_uri: str | None
        code_challenge: str
        code_challenge_method: str

    class Redeemed(OcsAggregate.Event):
        token_id: str

        def apply(self, code: "AuthorizationCode") -> None:
            code.redeemed_by = self.token_id

    def __init__(
        self,
        id: UUID,
        team: str,
        client_id: str,
        secret_hash: str,
        user: str,
        roles: list,
        scopes: list,
        redirect_uri: str | None,
        code_challenge: str,
        code_challenge_method: str,
    ):
        self.team = team
        self.client_id = client_id
        self.secret_hash = secret_hash
        self.user = user
        self.roles = roles
        self.scopes = scopes
        self.redirect_uri = redirect_uri
        self.code_challenge = code_challenge
        self.code_challenge_method = code_challenge_method
        self.redeemed_by: str | None = None

    def is_expired(self, now: datetime) -> bool:
        return now - self.created_on > timedelta(seconds=LIFETIME_S)

    def redeem(self, token_id: str) -> None:
        self.trigger_event(self.Redeemed, token_id=token_id)
