"""Chat admission on the read side: sessions and widget channels as the read models know them."""

import threading

from pymongo.database import Database

from infra.chat_admission import SessionAccess, WidgetAccess
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


class SessionAccessCache:
    """What admission needs of a session (its chatbot, channel, token rule and creation time) never changes
    once the session exists, so each API process keeps what it has read: a widget polling its task every
    100 ms then costs one read of the task, not two. Missing sessions are never remembered."""

    def __init__(self, db: Database, size: int = 20_000):
        self.db = db
        self.size = size
        self.known: dict[str, SessionAccess] = {}
        self.lock = threading.Lock()

    def get(self, session_id: str) -> SessionAccess | None:
        access = self.known.get(session_id)
        if access is None:
            access = session_access(self.db[SESSIONS].find_one({"_id": session_id}))
            if access is not None:
                with self.lock:
                    if len(self.known) >= self.size:
                        del self.known[next(iter(self.known))]  # the oldest entry
                    self.known[session_id] = access
        return access
