"""Sessions, their messages, and the tasks the chat polls read."""

from pymongo import InsertOne, UpdateOne

from projectors.projections.writes import Write, change, create, sort_key
from schemas.read_models import (
    MESSAGES,
    SESSIONS,
    TASKS,
    stored_json,
)
from schemas.session_status import ACTIVE, NOT_YET_ACTIVE


def chat_session_created(envelope: dict, data: dict) -> list[Write]:
    created_at = envelope["occurred_at"]
    return [
        create(
            SESSIONS,
            envelope,
            {
                "experiment_id": data["chatbot_id"],
                "participant_id": data["participant_id"],
                "participant": {
                    "identifier": data["participant_identifier"],
                    "remote_id": data["participant_remote_id"],
                },
                "channel_id": data["channel_id"],
                "session_token_required": data["session_token_required"],
                "platform": data["platform"],
                "status": data["status"],
                "state": stored_json(data["state"]),
                "tags": [],
                "version_tags": [],
                "created_at": created_at,
                "updated_at": created_at,
                "sort_key": sort_key(created_at, envelope["aggregate_id"]),
            },
        )
    ]


def message_document(envelope: dict, message: dict) -> dict:
    return {
        "session_id": envelope["aggregate_id"],
        "team": envelope["team"],
        "seq": message["seq"],
        "created_at": message["created_at"],
        "role": message["role"],
        "content": message["content"],
        "metadata": stored_json(message["metadata"]),
        "tags": message["tags"],
        "attachments": message["attachments"],
    }


def message_insert(envelope: dict, message: dict, **more) -> Write:
    """A plain insert: a replayed message's duplicate is skipped (`projectors.runner.apply`), and an insert
    costs the local MongoDB server about half of what an upsert does."""
    return MESSAGES, InsertOne({"_id": message["id"], **message_document(envelope, message), **more})


def session_gets_messages(envelope: dict, messages: list[dict]) -> Write:
    version_tags = sorted({tag for message in messages for tag in message["tags"] if is_version_tag(tag)})
    update: dict = {"$set": {"updated_at": envelope["occurred_at"]}}
    if version_tags:
        update["$addToSet"] = {"version_tags": {"$each": version_tags}}
    return change(SESSIONS, envelope, update)


def chat_session_messages_appended(envelope: dict, data: dict) -> list[Write]:
    messages = data["messages"]
    return [*(message_insert(envelope, m) for m in messages), session_gets_messages(envelope, messages)]


def task_update(task_id: str, update: dict) -> Write:
    return TASKS, UpdateOne({"_id": task_id}, update, upsert=True)


def chat_session_user_message_submitted(envelope: dict, data: dict) -> list[Write]:
    """No task document yet: a task the read model does not have is one still processing (the task poll
    says so), and its document is written once, when the task ends, which spares MongoDB a write per message.
    The user's message names its task instead, so that a poll can tell another session's task from its own.
    A session not yet active becomes active, as the write model makes it."""
    message = data["message"]
    activated = (
        SESSIONS,
        UpdateOne(
            {"_id": envelope["aggregate_id"], "status": {"$in": list(NOT_YET_ACTIVE)}}, {"$set": {"status": ACTIVE}}
        ),
    )
    return [
        message_insert(envelope, message, task_id=data["task_id"]),
        session_gets_messages(envelope, [message]),
        activated,
    ]


def chat_session_reply_recorded(envelope: dict, data: dict) -> list[Write]:
    """The task keeps a copy of its reply: a widget polling its task reads one document."""
    message = data["message"]
    return [
        message_insert(envelope, message, task_id=data["task_id"]),
        task_update(
            data["task_id"],
            {
                "$set": {
                    "session_id": envelope["aggregate_id"],
                    "status": "complete",
                    "message_id": message["id"],
                    "message": message_document(envelope, message),
                }
            },
        ),
        session_gets_messages(envelope, [message]),
    ]


def chat_session_reply_failed(envelope: dict, data: dict) -> list[Write]:
    return [
        task_update(
            data["task_id"],
            {
                "$set": {
                    "session_id": envelope["aggregate_id"],
                    "status": "error",
                    "error": data["error"],
                    "user_facing": data["user_facing"],
                }
            },
        ),
        change(SESSIONS, envelope, {"$set": {"updated_at": envelope["occurred_at"]}}),
    ]


def chat_session_state_changed(envelope: dict, data: dict) -> list[Write]:
    return [
        change(
            SESSIONS, envelope, {"$set": {"state": stored_json(data["state"]), "updated_at": envelope["occurred_at"]}}
        )
    ]


def chat_session_bot_message_requested(envelope: dict, data: dict) -> list[Write]:
    return [
        task_update(
            data["task_id"],
            {"$setOnInsert": {"session_id": envelope["aggregate_id"], "status": "processing", "message_id": None}},
        ),
        change(SESSIONS, envelope, {"$set": {"updated_at": envelope["occurred_at"]}}),
    ]


def session_version_moves(envelope: dict, data: dict) -> list[Write]:
    """An event the read models show nothing of (a delivery's outcome, a request to stop a reply)."""
    return [change(SESSIONS, envelope, {})]


def chat_session_ended(envelope: dict, data: dict) -> list[Write]:
    at = envelope["occurred_at"]
    return [change(SESSIONS, envelope, {"$set": {"status": "pending-review", "ended_at": at, "updated_at": at}})]


def chat_session_tagged(envelope: dict, data: dict) -> list[Write]:
    update = {"$addToSet": {"tags": {"$each": data["tags"]}}, "$set": {"updated_at": envelope["occurred_at"]}}
    return [change(SESSIONS, envelope, update)]


def chat_session_untagged(envelope: dict, data: dict) -> list[Write]:
    update = {"$pullAll": {"tags": data["tags"]}, "$set": {"updated_at": envelope["occurred_at"]}}
    return [change(SESSIONS, envelope, update)]


def is_version_tag(tag: str) -> bool:
    """`v3` (a published version answered) or `v3-unreleased` (the working version answered)."""
    number = tag[1:].removesuffix("-unreleased")
    return tag.startswith("v") and number.isascii() and number.isdigit()
