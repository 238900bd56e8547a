"""Chat admission on the read side: sessions and widget channels as the read models know them."""

from pymongo.database import Database

from infra.chat_admission import SessionAccess, WidgetAccess
from query_api.queries.remembered import Remembered
from schemas.ids import widget_channel_id
from schemas.instants import parse_instant
from schemas.read_models import SESSIONS, WIDGET_CHANNELS


def widget_access(doc: dict | None) -> WidgetAccess | None:
    if doc is None:
        return None
    return WidgetAccess(
        channel_id=doc["_id"],
        chatbot_id=doc["chatbot_id"],
        allowed_domains=tuple(doc["allowed_domains"]),
        auth_level=doc["auth_level"],
        enabled=doc["enabled"],
        disabled_message=doc["disabled_message"],
    )


def session_access(doc: dict | None) -> SessionAccess | None:
    if doc is None:
        return None
    return SessionAccess(
        session_id=doc["_id"],
        chatbot_id=doc["experiment_id"],
        channel_id=doc["channel_id"],
        session_token_required=doc["session_token_required"],
        created_at=parse_instant(doc["created_at"]).timestamp(),
    )


class ReadModelChatAccess:
    def __init__(self, db: Database):
        self.db = db

    def widget_by_key(self, key: str) -> WidgetAccess | None:
        return widget_access(self.db[WIDGET_CHANNELS].find_one({"_id": str(widget_channel_id(key))}))

    def widget_by_id(self, channel_id: str) -> WidgetAccess | None:
        return widget_access(self.db[WIDGET_CHANNELS].find_one({"_id": channel_id}))


def session_access_of(db: Database) -> Remembered:
    """What admission needs of a session (its chatbot, channel, token rule and creation time), by session id."""
    return Remembered(lambda session_id: session_access(db[SESSIONS].find_one({"_id": session_id})))
