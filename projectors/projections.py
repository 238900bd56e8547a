"""Projections: how each event changes the MongoDB read models, as pure functions from an envelope to writes.

Idempotency: a creating event inserts its document only if absent; every later event of an aggregate
applies only to the document at exactly the previous version. A redelivered or replayed event
therefore changes nothing, and events are applied in their aggregate's order or not at all.
Message documents are keyed by message id and only ever inserted; inserting one that is there already is
skipped.

Free-form client JSON (session state) is stored as JSON text (`schemas.read_models.stored_json`).
"""

from collections.abc import Callable

from pymongo import InsertOne, UpdateOne

from schemas import events
from schemas.events import PAYLOAD_SCHEMAS
from schemas.read_models import (
    API_KEYS,
    CHATBOTS,
    FILES,
    MESSAGES,
    MESSAGING_CHANNELS,
    OAUTH_CLIENTS,
    OAUTH_TOKENS,
    PARTICIPANTS,
    SESSIONS,
    TASKS,
    TEAMS,
    WIDGET_CHANNELS,
    stored_json,
)

Write = tuple[str, UpdateOne | InsertOne]


def sort_key(created_at: str, doc_id: str) -> str:
    """Creation order with the id as tie-breaker, as one indexed, cursor-friendly string."""
    return f"{created_at}|{doc_id}"


def create(collection: str, envelope: dict, doc: dict) -> Write:
    return collection, UpdateOne(
        {"_id": envelope["aggregate_id"]},
        {"$setOnInsert": {**doc, "team": envelope["team"], "version": envelope["aggregate_version"]}},
        upsert=True,
    )


def change(collection: str, envelope: dict, update: dict) -> Write:
    version = envelope["aggregate_version"]
    update = {**update, "$set": {**update.get("$set", {}), "version": version}}
    return collection, UpdateOne({"_id": envelope["aggregate_id"], "version": version - 1}, update)


def team_created(envelope: dict, data: dict) -> list[Write]:
    return [create(TEAMS, envelope, {"name": data["name"]})]


def api_key_created(envelope: dict, data: dict) -> list[Write]:
    return [
        create(
            API_KEYS,
            envelope,
            {
                "prefix": data["prefix"],
                "secret_hash": data["secret_hash"],
                "name": data["name"],
                "user": data["user"],
                "read_only": data["read_only"],
                "roles": data["roles"],
                "expires_at": data["expires_at"],
                "revoked": False,
            },
        )
    ]


def revoked(collection: str) -> Callable[[dict, dict], list[Write]]:
    return lambda envelope, data: [change(collection, envelope, {"$set": {"revoked": True}})]


def oauth_client_created(envelope: dict, data: dict) -> list[Write]:
    """What the client may do; its secret stays on the write model, which authenticates clients."""
    fields = ("client_id", "name", "grant_type", "scopes", "chatbots", "redirect_uris", "token_lifetime_s")
    return [create(OAUTH_CLIENTS, envelope, {field: data[field] for field in fields})]


def oauth_token_created(envelope: dict, data: dict) -> list[Write]:
    """What the query API authenticates access tokens with; refresh tokens are redeemed on the write model."""
    fields = ("client_id", "user", "roles", "scopes", "chatbots", "access_hash", "expires_in")
    return [
        create(
            OAUTH_TOKENS,
            envelope,
            {**{field: data[field] for field in fields}, "issued_at": envelope["occurred_at"], "revoked": False},
        )
    ]


def chatbot_created(envelope: dict, data: dict) -> list[Write]:
    created_at = envelope["occurred_at"]
    return [
        create(
            CHATBOTS,
            envelope,
            {
                "name": data["name"],
                "description": data["description"],
                "created_at": created_at,
                "sort_key": sort_key(created_at, envelope["aggregate_id"]),
                "version_number": 1,
                "versions": [],
                "default_version_number": None,
                "archived": False,
            },
        )
    ]


def chatbot_pipeline_changed(envelope: dict, data: dict) -> list[Write]:
    """Nothing the read API shows (how a chatbot answers is the worker's business); the version moves."""
    return [change(CHATBOTS, envelope, {})]


def chatbot_version_published(envelope: dict, data: dict) -> list[Write]:
    version = {
        "version_id": data["version_id"],
        "name": data["name"],
        "version_number": data["version_number"],
        "version_description": data["version_description"],
        "archived": False,
    }
    update = {"$push": {"versions": version}, "$set": {"version_number": data["version_number"] + 1}}
    if data["is_default_version"]:
        # One scalar names the default, so moving it never rewrites the other versions.
        update["$set"]["default_version_number"] = data["version_number"]
    return [change(CHATBOTS, envelope, update)]


def widget_channel_created(envelope: dict, data: dict) -> list[Write]:
    return [
        create(
            WIDGET_CHANNELS,
            envelope,
            {
                "chatbot_id": data["chatbot_id"],
                "allowed_domains": data["allowed_domains"],
                "auth_level": data["auth_level"],
                "credential_mode": data["credential_mode"],
                "enabled": True,
                "disabled_message": "",
            },
        )
    ]


def widget_channel_disabled(envelope: dict, data: dict) -> list[Write]:
    return [
        change(WIDGET_CHANNELS, envelope, {"$set": {"enabled": False, "disabled_message": data["disabled_message"]}})
    ]


def widget_channel_enabled(envelope: dict, data: dict) -> list[Write]:
    return [change(WIDGET_CHANNELS, envelope, {"$set": {"enabled": True}})]


def messaging_channel_created(envelope: dict, data: dict) -> list[Write]:
    return [
        create(
            MESSAGING_CHANNELS,
            envelope,
            {"chatbot_id": data["chatbot_id"], "platform": data["platform"], "webhook_url": data["webhook_url"]},
        )
    ]


def participant_created(envelope: dict, data: dict) -> list[Write]:
    created_at = envelope["occurred_at"]
    return [
        create(
            PARTICIPANTS,
            envelope,
            {
                "identifier": data["identifier"],
                "platform": data["platform"],
                "name": data["name"],
                "remote_id": data["remote_id"],
                "data": {},
                "created_at": created_at,
                "sort_key": sort_key(created_at, envelope["aggregate_id"]),
            },
        )
    ]


def participant_data_changed(envelope: dict, data: dict) -> list[Write]:
    return [change(PARTICIPANTS, envelope, {"$set": {f"data.{data['chatbot_id']}": stored_json(data["data"])}})]


def participant_renamed(envelope: dict, data: dict) -> list[Write]:
    return [change(PARTICIPANTS, envelope, {"$set": {"name": data["name"]}})]


def participant_version_moves(envelope: dict, data: dict) -> list[Write]:
    """Events no read model shows (schedules, sessions joined); the participant's version still moves."""
    return [change(PARTICIPANTS, envelope, {})]


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


def message_insert(envelope: dict, message: dict) -> Write:
    """A plain insert: a replayed message's duplicate is skipped (`projectors.runner.apply`), and an insert
    costs the local MongoDB server about half of what an upsert does."""
    return MESSAGES, InsertOne({"_id": message["id"], **message_document(envelope, message)})


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
    says so), and its document is written once, when the task ends, which spares MongoDB a write per message."""
    message = data["message"]
    return [message_insert(envelope, message), session_gets_messages(envelope, [message])]


def chat_session_reply_recorded(envelope: dict, data: dict) -> list[Write]:
    """The task keeps a copy of its reply: a widget polling its task reads one document."""
    message = data["message"]
    return [
        message_insert(envelope, message),
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


def chat_session_delivery_recorded(envelope: dict, data: dict) -> list[Write]:
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


def file_created(envelope: dict, data: dict) -> list[Write]:
    return [
        create(
            FILES,
            envelope,
            {
                "file_id": data["file_id"],
                "session_id": data["session_id"],
                "name": data["name"],
                "content_type": data["content_type"],
                "size": data["size"],
                "purpose": data["purpose"],
                "expires_at": data["expires_at"],
            },
        )
    ]


def file_attached(envelope: dict, data: dict) -> list[Write]:
    return [change(FILES, envelope, {"$set": {"expires_at": None, "message_id": data["message_id"]}})]


def is_version_tag(tag: str) -> bool:
    """`v3` (a published version answered) or `v3-unreleased` (the working version answered)."""
    number = tag[1:].removesuffix("-unreleased")
    return tag.startswith("v") and number.isascii() and number.isdigit()


PROJECTIONS: dict[str, Callable[[dict, dict], list[Write]]] = {
    events.TEAM_CREATED: team_created,
    events.API_KEY_CREATED: api_key_created,
    events.API_KEY_REVOKED: revoked(API_KEYS),
    events.OAUTH_CLIENT_CREATED: oauth_client_created,
    events.OAUTH_TOKEN_CREATED: oauth_token_created,
    events.OAUTH_TOKEN_REVOKED: revoked(OAUTH_TOKENS),
    events.CHATBOT_CREATED: chatbot_created,
    events.CHATBOT_VERSION_PUBLISHED: chatbot_version_published,
    events.CHATBOT_PIPELINE_CHANGED: chatbot_pipeline_changed,
    events.WIDGET_CHANNEL_CREATED: widget_channel_created,
    events.WIDGET_CHANNEL_DISABLED: widget_channel_disabled,
    events.WIDGET_CHANNEL_ENABLED: widget_channel_enabled,
    events.PARTICIPANT_CREATED: participant_created,
    events.PARTICIPANT_DATA_CHANGED: participant_data_changed,
    events.PARTICIPANT_RENAMED: participant_renamed,
    events.PARTICIPANT_SCHEDULE_SET: participant_version_moves,
    events.PARTICIPANT_SCHEDULE_CANCELLED: participant_version_moves,
    events.PARTICIPANT_SESSION_JOINED: participant_version_moves,
    events.CHAT_SESSION_CREATED: chat_session_created,
    events.CHAT_SESSION_MESSAGES_APPENDED: chat_session_messages_appended,
    events.CHAT_SESSION_USER_MESSAGE_SUBMITTED: chat_session_user_message_submitted,
    events.CHAT_SESSION_REPLY_RECORDED: chat_session_reply_recorded,
    events.CHAT_SESSION_REPLY_FAILED: chat_session_reply_failed,
    events.CHAT_SESSION_STATE_CHANGED: chat_session_state_changed,
    events.CHAT_SESSION_ENDED: chat_session_ended,
    events.CHAT_SESSION_BOT_MESSAGE_REQUESTED: chat_session_bot_message_requested,
    events.CHAT_SESSION_BOT_MESSAGE_SENT: chat_session_reply_recorded,
    events.CHAT_SESSION_DELIVERY_RECORDED: chat_session_delivery_recorded,
    events.CHAT_SESSION_TAGGED: chat_session_tagged,
    events.CHAT_SESSION_UNTAGGED: chat_session_untagged,
    events.MESSAGING_CHANNEL_CREATED: messaging_channel_created,
    events.FILE_CREATED: file_created,
    events.FILE_ATTACHED: file_attached,
}


def writes_for(envelope: dict) -> list[Write]:
    """The read-model writes for one event; events of types this version does not know change nothing."""
    project = PROJECTIONS.get(envelope["type"])
    if project is None:
        return []
    data = PAYLOAD_SCHEMAS[envelope["type"]].load(envelope["data"])
    return project(envelope, data)
