"""Credentials as the write model knows them: a key or token revoked a moment ago is refused here at once."""

from uuid import UUID

from command_api.domain.api_key import ApiKey, api_key_id
from command_api.domain.cookie_session import CookieSession
from command_api.domain.oauth_token import OAuthToken
from command_api.domain.team import Team, team_id
from command_api.write_model.application import OcsApplication
from command_api.write_model.repository import load
from infra.authentication import StoredCookieSession, StoredKey, StoredToken, epoch_s


class WriteModelCredentials:
    def __init__(self, app: OcsApplication):
        self.app = app

    def api_key(self, prefix: str) -> StoredKey | None:
        key = load(self.app, api_key_id(prefix), ApiKey)
        if key is None:
            return None
        return StoredKey(
            team=key.team,
            secret_hash=key.secret_hash,
            user=key.user,
            read_only=key.read_only,
            revoked=key.revoked,
            roles=tuple(key.roles),
            expires_at=epoch_s(key.expires_at),
        )

    def oauth_token(self, token_id: str) -> StoredToken | None:
        token = load(self.app, UUID(token_id), OAuthToken)
        if token is None:
            return None
        return StoredToken(
            team=token.team,
            client_id=token.client_id,
            user=token.user,
            roles=tuple(token.roles),
            scopes=tuple(token.scopes),
            chatbots=tuple(token.chatbots) if token.chatbots is not None else None,
            access_hash=token.access_hash,
            expires_at=token.expires_at.timestamp(),
            revoked=token.revoked,
        )

    def cookie_session(self, session_id: str) -> StoredCookieSession | None:
        session = load(self.app, UUID(session_id), CookieSession)
        if session is None:
            return None
        return StoredCookieSession(
            team=session.team,
            credential=session.credential,
            secret_hash=session.secret_hash,
            expires_at=session.expires_at.timestamp(),
            ended=session.ended,
        )

    def allowed_origins(self, team: str) -> tuple[str, ...]:
        stored = load(self.app, team_id(team), Team)
        return tuple(stored.allowed_origins) if stored else ()
