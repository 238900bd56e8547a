"""OAuth2 client (an "application" in OCS): who may obtain tokens, by which grant, for which scopes and, for
machine clients, which chatbots. Only a hash of its secret is recorded; its id is derived from its client id."""

from uuid import UUID

from command_api.domain.base import OcsAggregate
from schemas.ids import derived_id

CLIENT_CREDENTIALS = "client_credentials"
AUTHORIZATION_CODE = "authorization_code"
GRANT_TYPES = (CLIENT_CREDENTIALS, AUTHORIZATION_CODE)
DEFAULT_TOKEN_LIFETIME_S = 3600

# SPEC §1.1/§1.4: the scopes any token may carry (OIDC scopes are never granted).
SCOPES = (
    "chatbots:read",
    "chatbots:interact",
    "chat:start",
    "sessions:read",
    "sessions:write",
    "files:read",
    "participants:read",
    "participants:write",
    "usage:read",
    "events:read",
)


class OAuthClient(OcsAggregate):
    class Created(OcsAggregate.Created):
        client_id: str
        secret_hash: str
        name: str
        grant_type: str
        scopes: list
        chatbots: list
        redirect_uris: list
        token_lifetime_s: int

    def __init__(
        self,
        id: UUID,
        team: str,
        client_id: str,
        secret_hash: str,
        name: str,
        grant_type: str,
        scopes: list,
        chatbots: list,
        redirect_uris: list,
        token_lifetime_s: int,
    ):
        self.team = team
        self.client_id = client_id
        self.secret_hash = secret_hash
        self.name = name
        self.grant_type = grant_type
        self.scopes = scopes
        self.chatbots = chatbots
        self.redirect_uris = redirect_uris
        self.token_lifetime_s = token_lifetime_s

    @property
    def grant_types(self) -> tuple[str, ...]:
        """An authorization-code client also refreshes the tokens it was given."""
        if self.grant_type == AUTHORIZATION_CODE:
            return AUTHORIZATION_CODE, "refresh_token"
        return (self.grant_type,)


def oauth_client_id(client_id: str) -> UUID:
    return derived_id("oauth_client", client_id)
