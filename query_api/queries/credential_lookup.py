"""Credentials as the read models know them, for authenticating the query API's requests."""

from uuid import UUID

from pymongo.database import Database

from infra.authentication import StoredCookieSession, StoredKey, StoredToken, epoch_s
from schemas.read_models import API_KEYS, COOKIE_SESSIONS, OAUTH_TOKENS, TEAMS
from schemas.roles import DEFAULT_ROLE


class ReadModelCredentials:
    def __init__(self, db: Database):
        self.db = db

    def api_key(self, prefix: str) -> StoredKey | None:
        doc = self.db[API_KEYS].find_one({"prefix": prefix})
        if doc is None:
            return None
        return StoredKey(
            team=doc["team"],
            secret_hash=doc["secret_hash"],
            user=doc["user"],
            read_only=doc["read_only"],
            revoked=doc["revoked"],
            # Documents projected before keys had roles or expiry: the team owner's, never expiring.
            roles=tuple(doc.get("roles", (DEFAULT_ROLE,))),
            expires_at=epoch_s(doc.get("expires_at")),
        )

    def oauth_token(self, token_id: str) -> StoredToken | None:
        doc = self.db[OAUTH_TOKENS].find_one({"_id": str(UUID(token_id))})
        if doc is None:
            return None
        return StoredToken(
            team=doc["team"],
            client_id=doc["client_id"],
            user=doc["user"],
            roles=tuple(doc["roles"]),
            scopes=tuple(doc["scopes"]),
            chatbots=tuple(doc["chatbots"]) if doc["chatbots"] is not None else None,
            access_hash=doc["access_hash"],
            expires_at=epoch_s(doc["issued_at"]) + doc["expires_in"],
            revoked=doc["revoked"],
        )

    def cookie_session(self, session_id: str) -> StoredCookieSession | None:
        doc = self.db[COOKIE_SESSIONS].find_one({"_id": str(UUID(session_id))})
        if doc is None:
            return None
        return StoredCookieSession(
            team=doc["team"],
            credential=doc["credential"],
            secret_hash=doc["secret_hash"],
            expires_at=epoch_s(doc["started_at"]) + doc["lifetime_s"],
            ended=doc["ended"],
        )

    def allowed_origins(self, team: str) -> tuple[str, ...]:
        doc = self.db[TEAMS].find_one({"team": team}, {"allowed_origins": 1})
        return tuple(doc.get("allowed_origins", ())) if doc else ()
