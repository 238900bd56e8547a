"""The chat endpoints that read (SPEC §3.18-3.19), and the message stream beyond OCS."""

import json

from flask import Blueprint, request
from pymongo.database import Database

from infra.chat_admission import admit_chat_caller
from infra.permissions import admits_own_callers
from infra.session_tokens import SessionTokens
from infra.web import base_url, json_response
from query_api.http.streams import event_stream
from query_api.queries.admission_lookup import ReadModelChatAccess, session_access, session_access_of
from query_api.queries.change_feed import ChangeFeed
from query_api.queries.chat_messages import chat_session, messages_since, session_task, task_sessions_of
from query_api.queries.reply_deltas import Delta, DeltaFeed
from schemas import representations
from schemas.errors import REPLY_FAILED, ApiError, error
from schemas.fields import decimal_digits
from schemas.instants import parse_instant, utc_iso

DEFAULT_POLL_LIMIT = 50


def since_param(raw: str | None) -> str | None:
    if raw is None:
        return None
    try:
        return utc_iso(parse_instant(raw.strip().replace(" ", "+")))
    except (ValueError, OverflowError):
        raise error(400, "Invalid 'since' parameter format. Use ISO format.") from None


def limit_param() -> int:
    raw = request.args.get("limit")
    if raw is None:
        return DEFAULT_POLL_LIMIT
    if not decimal_digits(raw.strip()) or len(raw) > 9:
        raise error(400, "Invalid 'limit' parameter. Use a non-negative integer.")
    return int(raw)


def chat_blueprint(db: Database, tokens: SessionTokens, feed: ChangeFeed, deltas: DeltaFeed) -> Blueprint:
    chat = Blueprint("chat", __name__)
    sessions = session_access_of(db)
    widgets = ReadModelChatAccess(db)
    tasks = task_sessions_of(db)

    def admitted_session(session_id, credentials_in_query: bool = False) -> dict:
        doc = chat_session(db, str(session_id))
        access = session_access(doc)
        admit_chat_caller(access, widgets.widget_by_key, widgets.widget_by_id, tokens, credentials_in_query)
        return doc

    @chat.get("/chat/<uuid:session_id>/poll/")
    @admits_own_callers
    def chat_poll_response(session_id):
        session = admitted_session(session_id)
        since, limit = since_param(request.args.get("since")), limit_param()
        messages, has_more = messages_since(db, session["_id"], since, limit)
        return json_response(representations.messages_poll(messages, has_more, session["status"], base_url()))

    @chat.get("/chat/<uuid:session_id>/<task_id>/poll/")
    @admits_own_callers
    def chat_poll_task_response(session_id, task_id):
        access = sessions.get(str(session_id))
        admit_chat_caller(access, widgets.widget_by_key, widgets.widget_by_id, tokens)
        task = session_task(db, tasks, access.session_id, task_id)
        if task is not None and task["status"] == "error":
            if task.get("user_facing"):
                raise ApiError(400, {"error": task["error"], "status": "error"})
            raise ApiError(500, {"error": REPLY_FAILED, "status": "error"})
        reply = task["message"] if task is not None and task["status"] != "processing" else None
        return json_response(representations.task_poll(reply, base_url()))

    @chat.get("/chat/<uuid:session_id>/stream/")
    @admits_own_callers
    def chat_stream(session_id):
        """Server-sent events: each message of the session as it is projected (`id` = its `created_at`), and
        before each reply, while it is generated, its text in `delta` events."""
        session = admitted_session(session_id, credentials_in_query=True)
        # Last-Event-ID is what this stream sent as `id` (a `created_at`), so it is read as `since` is.
        since = since_param(request.headers.get("Last-Event-ID") or request.args.get("since"))
        url = base_url()
        answered: set[str] = set()  # a delta arriving after its task's reply has nothing left to tell
        told: dict[str, str] = {}  # the text each reply being generated has reached the client with

        def delta_event(task_id: str, offset: int, text: str) -> str:
            told[task_id] = told.get(task_id, "")[:offset] + text
            return f"event: delta\ndata: {json.dumps(representations.reply_delta(task_id, offset, text))}\n\n"

        def render(item) -> str:
            if isinstance(item, Delta):
                return "" if item.task_id in answered else delta_event(item.task_id, item.offset, item.text)
            rest = ""
            if item["role"] == "assistant" and item.get("task_id"):
                answered.add(item["task_id"])
                # The reply's last deltas may come after it (they travel another way): its deltas still add up.
                so_far = told.pop(item["task_id"], None)
                if so_far is not None and so_far != item["content"]:
                    offset = len(so_far) if item["content"].startswith(so_far) else 0
                    rest = delta_event(item["task_id"], offset, item["content"][offset:])
                    told.pop(item["task_id"])
            payload = json.dumps(representations.streamed_message(item, url))
            return f"{rest}id: {item['created_at']}\nevent: message\ndata: {payload}\n\n"

        return event_stream(feed, session["_id"], since, render, deltas=deltas)

    return chat
