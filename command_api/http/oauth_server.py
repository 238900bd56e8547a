"""The OAuth2 authorization server (SPEC §1.1, §1.4), built on authlib: `/o/authorize/`, `/o/token/`
(authorization_code with PKCE S256, refresh_token, client_credentials), `/o/revoke_token/` and
`/o/introspect/`.

The resource owner. This is a headless API, so the user who consents at `/o/authorize/` proves who they are
with one of their API keys (`X-api-key`, or `Authorization: Bearer <key>`), the credential they already hold.
`GET` describes the request (client, scopes, team); `POST` with `allow=yes` consents and answers 302 to the
client's redirect URI with the code, anything else answers 302 with `error=access_denied`. Consent is also
refused when the key belongs to another team than the client's, or when a read-only key is asked for a
scope that writes. The token carries the key's user and roles.

Tokens and codes are opaque `<id>.<secret>` strings: the id finds the record on the write model, only a hash
of the secret is recorded. Codes are redeemed, and refresh tokens replaced, in the same write that records
the new token, so each yields one token however many requests race with it.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from uuid import UUID, uuid4

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import (
    AuthorizationCodeMixin,
    ClientMixin,
    InvalidRequestError,
    InvalidScopeError,
    TokenMixin,
    grants,
    list_to_scope,
    scope_to_list,
)
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint

from command_api import commands
from command_api.bus import CommandBus
from command_api.domain.authorization_code import AuthorizationCode
from command_api.domain.oauth_client import AUTHORIZATION_CODE, SCOPES, OAuthClient, oauth_client_id
from command_api.domain.oauth_token import OAuthToken
from command_api.read_your_writes import ReadModelWaiter
from command_api.write_model.repository import load
from infra.authentication import split_oauth_token
from infra.secrets import hash_secret, new_id_secret, secret_matches
from schemas.read_models import OAUTH_TOKENS

# authlib logs issued tokens and codes at DEBUG: secrets never reach a log, whatever the log level.
logging.getLogger("authlib").setLevel(logging.INFO)

CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
READ_SCOPES = {scope for scope in SCOPES if scope.endswith(":read")}


@dataclass(frozen=True)
class ResourceOwner:
    user: str
    roles: tuple[str, ...]


class Client(ClientMixin):
    def __init__(self, client: OAuthClient):
        self.client = client

    def get_client_id(self):
        return self.client.client_id

    def get_default_redirect_uri(self):
        return self.client.redirect_uris[0] if self.client.redirect_uris else None

    def get_allowed_scope(self, scope):
        """The requested scopes, all of which the client must hold (None refuses); none requested: all."""
        if not scope:
            return list_to_scope(self.client.scopes)
        requested = scope_to_list(scope)
        return list_to_scope(requested) if set(requested) <= set(self.client.scopes) else None

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.client.redirect_uris

    def check_client_secret(self, client_secret):
        return secret_matches(client_secret, self.client.secret_hash)

    def check_endpoint_auth_method(self, method, endpoint):
        return method in CLIENT_AUTH_METHODS

    def check_response_type(self, response_type):
        return response_type == "code" and self.client.grant_type == AUTHORIZATION_CODE

    def check_grant_type(self, grant_type):
        return grant_type in self.client.grant_types


class Code(AuthorizationCodeMixin):
    def __init__(self, code: AuthorizationCode):
        self.code = code
        self.code_challenge = code.code_challenge
        self.code_challenge_method = code.code_challenge_method

    def get_redirect_uri(self):
        return self.code.redirect_uri

    def get_scope(self):
        return list_to_scope(self.code.scopes)


class Token(TokenMixin):
    """A token as presented: its access part or its refresh part (`refresh`)."""

    def __init__(self, token: OAuthToken, refresh: bool):
        self.token = token
        self.refresh = refresh

    def check_client(self, client):
        return self.token.client_id == client.get_client_id()

    def get_scope(self):
        return list_to_scope(self.token.scopes)

    def get_expires_in(self):
        return self.token.expires_in

    def is_expired(self):
        now = datetime.now(timezone.utc)
        return self.token.refresh_expired(now) if self.refresh else self.token.expires_at <= now

    def is_revoked(self):
        return self.token.revoked

    def get_user(self):
        return ResourceOwner(self.token.user, tuple(self.token.roles)) if self.token.user else None


def generate_bearer_token(grant_type, client, user=None, scope=None, expires_in=None, include_refresh_token=True):
    """Access and refresh token share the token's id; each has its own secret."""
    token_id = uuid4().hex
    token = {
        "token_type": "Bearer",
        "access_token": new_id_secret(token_id)[0],
        "expires_in": client.client.token_lifetime_s,
        "scope": scope,
    }
    if include_refresh_token:
        token["refresh_token"] = new_id_secret(token_id)[0]
    return token


class OcsAuthorizationServer(AuthorizationServer):
    def __init__(self, bus: CommandBus, waiter: ReadModelWaiter):
        super().__init__()
        self.bus = bus
        self.waiter = waiter
        self.register_token_generator("default", generate_bearer_token)
        self.register_grant(AuthorizationCodeGrant, [CodeChallenge(required=True)])
        self.register_grant(RefreshTokenGrant)
        self.register_grant(ClientCredentialsGrant)
        self.register_endpoint(Revocation)
        self.register_endpoint(Introspection)

    def query_client(self, client_id):
        client = load(self.bus.app, oauth_client_id(client_id), OAuthClient) if client_id else None
        return Client(client) if client else None

    def presented_token(self, token_string: str, hint: str | None = None) -> Token | None:
        """The live-or-not token whose access or refresh secret this is."""
        parts = split_oauth_token(token_string)
        token = load(self.bus.app, UUID(parts[0]), OAuthToken) if parts else None
        if token is None:
            return None
        if hint != "refresh_token" and secret_matches(parts[1], token.access_hash):
            return Token(token, refresh=False)
        if hint != "access_token" and token.refresh_hash and secret_matches(parts[1], token.refresh_hash):
            return Token(token, refresh=True)
        return None

    def revoke(self, token_id: str) -> None:
        """Revoke the token; answered once the query API refuses it too."""
        revoked = self.bus.handle(commands.RevokeOAuthToken(token_id))
        self.waiter.wait(OAUTH_TOKENS, token_id, revoked.aggregate.version)

    def save_token(self, token, request):
        token_id, access_secret = split_oauth_token(token["access_token"])
        refresh = token.get("refresh_token")
        owner = request.user
        issued = self.bus.handle(
            commands.IssueOAuthToken(
                token_id=str(UUID(token_id)),
                client_id=request.client.get_client_id(),
                user=owner.user if owner else None,
                roles=owner.roles if owner else (),
                scopes=tuple(scope_to_list(token["scope"]) or ()),
                access_hash=hash_secret(access_secret),
                refresh_hash=hash_secret(split_oauth_token(refresh)[1]) if refresh else None,
                redeems_code=str(request.authorization_code.code.id) if request.authorization_code else None,
                replaces_token=str(request.refresh_token.token.id) if request.refresh_token else None,
            )
        )
        # The query API authenticates from the read model: the token works there once it is answered.
        self.waiter.wait(OAUTH_TOKENS, str(issued.aggregate.id), issued.aggregate.version)


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def validate_authorization_request(self):
        redirect_uri = super().validate_authorization_request()
        data = self.request.payload.data
        if not data.get("code_challenge") or data.get("code_challenge_method") != "S256":
            raise InvalidRequestError(
                "PKCE is required: code_challenge with code_challenge_method=S256.", redirect_uri=redirect_uri
            )
        return redirect_uri

    def generate_authorization_code(self):
        return new_id_secret(uuid4().hex)[0]

    def save_authorization_code(self, code, request):
        code_id, secret = split_oauth_token(code)
        owner: ResourceOwner = request.user
        self.server.bus.handle(
            commands.IssueAuthorizationCode(
                code_id=str(UUID(code_id)),
                secret_hash=hash_secret(secret),
                client_id=request.client.get_client_id(),
                user=owner.user,
                roles=owner.roles,
                scopes=tuple(scope_to_list(request.scope)),
                redirect_uri=request.payload.redirect_uri,
                code_challenge=request.payload.data["code_challenge"],
                code_challenge_method=request.payload.data["code_challenge_method"],
            )
        )

    def query_authorization_code(self, code, client):
        parts = split_oauth_token(code)
        found = load(self.server.bus.app, UUID(parts[0]), AuthorizationCode) if parts else None
        if found is None or found.client_id != client.get_client_id():
            return None
        if not secret_matches(parts[1], found.secret_hash):
            return None
        if found.redeemed_by is not None:
            # A code presented twice may have leaked: what it was exchanged for stops working (RFC 6749 §4.1.2).
            self.server.revoke(found.redeemed_by)
            return None
        return None if found.is_expired(datetime.now(timezone.utc)) else Code(found)

    def delete_authorization_code(self, authorization_code):
        """Nothing left to do: the code was redeemed in the write that recorded the token."""

    def authenticate_user(self, authorization_code):
        return ResourceOwner(authorization_code.code.user, tuple(authorization_code.code.roles))


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotation: each refresh token is used once

    def authenticate_refresh_token(self, refresh_token):
        token = self.server.presented_token(refresh_token, "refresh_token")
        if token is None or token.is_revoked() or token.is_expired():
            return None
        return token

    def authenticate_user(self, refresh_token):
        return refresh_token.get_user()

    def revoke_old_credential(self, refresh_token):
        """Nothing left to do: the old token was revoked in the write that recorded its successor."""


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    """Machine tokens: no user, pinned to the client's team and chatbot allowlist."""

    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def validate_token_request(self):
        super().validate_token_request()
        self.granted_scope = self.client.get_allowed_scope(self.request.payload.scope)
        if self.granted_scope is None:
            raise InvalidScopeError()

    def create_token_response(self):
        token = self.generate_token(scope=self.granted_scope, include_refresh_token=False)
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def query_token(self, token_string, token_type_hint):
        return self.server.presented_token(token_string, token_type_hint)

    def revoke_token(self, token, request):
        self.server.revoke(str(token.token.id))


class Introspection(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def query_token(self, token_string, token_type_hint):
        return self.server.presented_token(token_string, token_type_hint)

    def check_permission(self, token, client, request):
        """Any client of the token's team may ask about it; other teams learn nothing."""
        return token.token.team == self.server.query_client(client.get_client_id()).client.team

    def introspect_token(self, token):
        stored = token.token
        payload = {
            "active": True,
            "client_id": stored.client_id,
            "token_type": "refresh_token" if token.refresh else "Bearer",
            "scope": token.get_scope(),
            "iat": int(stored.created_on.timestamp()),
            "exp": int(stored.expires_at.timestamp()),
            "team": stored.team,
        }
        if stored.user:
            payload["username"] = payload["sub"] = stored.user
        if stored.chatbots is not None:
            payload["chatbots"] = stored.chatbots
        return payload


# RFC 6749 Appendix A: parameter values are printable ASCII; names of types and methods are narrower still.
