"""The chat endpoints that read (SPEC §3.18-3.19), and the message stream beyond OCS, from MongoDB."""

import json
import threading
import time
from datetime import datetime, timezone

from flask import Blueprint, Response, request, stream_with_context
from pymongo.database import Database

from infra.chat_access import SessionAccess, WidgetAccess, admit_chat_caller
from infra.session_tokens import SessionTokens
from infra.web import base_url, json_response
from query_api.message_feed import MessageFeed
from schemas import representations
from schemas.errors import REPLY_FAILED, ApiError, detail, error
from schemas.ids import widget_channel_id
from schemas.read_models import MESSAGES, SESSIONS, TASKS, WIDGET_CHANNELS

DEFAULT_POLL_LIMIT = 50
STREAM_KEEPALIVE_S = 15
# A stream ends after this long; EventSource clients reconnect by themselves with Last-Event-ID.
STREAM_MAX_S = 300


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


def parse_instant(text: str) -> datetime:
    instant = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    return instant if instant.tzinfo else instant.replace(tzinfo=timezone.utc)


def canonical(instant: datetime) -> str:
    return instant.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def since_param(raw: str | None) -> str | None:
    if raw is None:
        return None
    try:
        return canonical(parse_instant(raw.strip().replace(" ", "+")))
    except (ValueError, OverflowError):
        raise error(400, "Invalid 'since' parameter format. Use ISO format.") from None


def limit_param() -> int:
    raw = request.args.get("limit")
    if raw is None:
        return DEFAULT_POLL_LIMIT
    if not raw.strip().isdigit() or len(raw) > 9:
        raise error(400, "Invalid 'limit' parameter. Use a non-negative integer.")
    return int(raw)


def chat_blueprint(db: Database, tokens: SessionTokens, feed: MessageFeed) -> Blueprint:
    chat = Blueprint("chat", __name__)
    sessions = SessionAccessCache(db)

    def widget_by_key(key: str):
        return widget_access(db[WIDGET_CHANNELS].find_one({"_id": str(widget_channel_id(key))}))

    def widget_by_id(channel_id: str):
        return widget_access(db[WIDGET_CHANNELS].find_one({"_id": channel_id}))

    def admitted_session(session_id) -> dict:
        doc = db[SESSIONS].find_one({"_id": str(session_id)})
        admit_chat_caller(session_access(doc), widget_by_key, widget_by_id, tokens)
        return doc

    @chat.get("/chat/<uuid:session_id>/poll/")
    def chat_poll_response(session_id):
        session = admitted_session(session_id)
        since, limit = since_param(request.args.get("since")), limit_param()
        query: dict = {"session_id": session["_id"]}
        if since:
            query["created_at"] = {"$gt": since}
        docs = list(db[MESSAGES].find(query).sort("created_at", 1).limit(limit + 1))
        return json_response(
            {
                "messages": [representations.message(doc, base_url()) for doc in docs[:limit]],
                "has_more": len(docs) > limit,
                "session_status": "ended" if session["status"] == "complete" else "active",
            }
        )

    @chat.get("/chat/<uuid:session_id>/<task_id>/poll/")
    def chat_poll_task_response(session_id, task_id):
        access = sessions.get(str(session_id))
        admit_chat_caller(access, widget_by_key, widget_by_id, tokens)
        task = db[TASKS].find_one({"_id": task_id})
        if task is not None and task["session_id"] != access.session_id:
            raise detail(404, "Not found.")
        if task is None or task["status"] == "processing":
            return json_response({"message": None, "status": "processing"})
        if task["status"] == "error":
            if task.get("user_facing"):
                raise ApiError(400, {"error": task["error"], "status": "error"})
            raise ApiError(500, {"error": REPLY_FAILED, "status": "error"})
        # Tasks projected before they kept a copy of their reply have only its id.
        message = task.get("message") or db[MESSAGES].find_one({"_id": task["message_id"]})
        return json_response({"message": representations.message(message, base_url()), "status": "complete"})

    @chat.get("/chat/<uuid:session_id>/stream/")
    def chat_stream(session_id):
        """Server-sent events: each message of the session as it is projected (`id` = its `created_at`)."""
        session = admitted_session(session_id)
        # Last-Event-ID is what this stream sent as `id` (a `created_at`), so it is read as `since` is.
        since = since_param(request.headers.get("Last-Event-ID") or request.args.get("since"))
        url = base_url()

        def events():
            subscription = feed.subscribe(session["_id"], since)
            started = time.monotonic()
            try:
                while time.monotonic() - started < STREAM_MAX_S:
                    docs = subscription.wait(STREAM_KEEPALIVE_S)
                    for doc in docs:
                        payload = json.dumps(representations.message(doc, url))
                        yield f"id: {doc['created_at']}\nevent: message\ndata: {payload}\n\n"
                    if not docs:
                        yield ": keepalive\n\n"
            finally:
                feed.unsubscribe(subscription)

        return Response(
            stream_with_context(events()),
            mimetype="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    return chat
