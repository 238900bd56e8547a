"""Projections: how each event changes the MongoDB read models, as pure functions from an envelope to writes.

Idempotency: a creating event inserts its document only if absent; every later event of an aggregate
applies only to the document at exactly the previous version. A redelivered or replayed event
therefore changes nothing, and events are applied in their aggregate's order or not at all.
Message documents are keyed by message id and only ever inserted; inserting one that is there already is
skipped.

Free-form client JSON (session state) is stored as JSON text (`schemas.read_models.stored_json`).

`PROJECTIONS` is the table of contents: each event type, and the projection (in the module of its aggregate)
that turns it into read-model writes.
"""

from collections.abc import Callable

from projectors.projections import (
    chatbots,
    files,
    participants,
    responses,
    sessions,
    subscriptions,
    teams_and_access,
)
from projectors.projections.writes import Write
from schemas import events
from schemas.events import PAYLOAD_SCHEMAS
from schemas.read_models import API_KEYS, OAUTH_TOKENS

PROJECTIONS: dict[str, Callable[[dict, dict], list[Write]]] = {
    events.TEAM_CREATED: teams_and_access.team_created,
    events.TEAM_ALLOWED_ORIGINS_CHANGED: teams_and_access.team_allowed_origins_changed,
    events.TEAM_MODEL_PRICES_CHANGED: teams_and_access.team_model_prices_changed,
    events.API_KEY_CREATED: teams_and_access.api_key_created,
    events.API_KEY_REVOKED: teams_and_access.revoked(API_KEYS),
    events.OAUTH_CLIENT_CREATED: teams_and_access.oauth_client_created,
    events.OAUTH_TOKEN_CREATED: teams_and_access.oauth_token_created,
    events.OAUTH_TOKEN_REVOKED: teams_and_access.revoked(OAUTH_TOKENS),
    events.COOKIE_SESSION_CREATED: teams_and_access.cookie_session_created,
    events.COOKIE_SESSION_ENDED: teams_and_access.cookie_session_ended,
    events.CHATBOT_CREATED: chatbots.chatbot_created,
    events.CHATBOT_VERSION_PUBLISHED: chatbots.chatbot_version_published,
    events.CHATBOT_PIPELINE_CHANGED: chatbots.chatbot_pipeline_changed,
    events.WIDGET_CHANNEL_CREATED: chatbots.widget_channel_created,
    events.WIDGET_CHANNEL_DISABLED: chatbots.widget_channel_disabled,
    events.WIDGET_CHANNEL_ENABLED: chatbots.widget_channel_enabled,
    events.PARTICIPANT_CREATED: participants.participant_created,
    events.PARTICIPANT_DATA_CHANGED: participants.participant_data_changed,
    events.PARTICIPANT_RENAMED: participants.participant_renamed,
    events.PARTICIPANT_SCHEDULE_SET: participants.participant_version_moves,
    events.PARTICIPANT_SCHEDULE_CANCELLED: participants.participant_version_moves,
    events.PARTICIPANT_SESSION_JOINED: participants.participant_version_moves,
    events.CHAT_SESSION_CREATED: sessions.chat_session_created,
    events.CHAT_SESSION_MESSAGES_APPENDED: sessions.chat_session_messages_appended,
    events.CHAT_SESSION_USER_MESSAGE_SUBMITTED: sessions.chat_session_user_message_submitted,
    events.CHAT_SESSION_REPLY_RECORDED: sessions.chat_session_reply_recorded,
    events.CHAT_SESSION_REPLY_FAILED: sessions.chat_session_reply_failed,
    events.CHAT_SESSION_REPLY_CANCEL_REQUESTED: sessions.session_version_moves,
    events.CHAT_SESSION_STATE_CHANGED: sessions.chat_session_state_changed,
    events.CHAT_SESSION_ENDED: sessions.chat_session_ended,
    events.CHAT_SESSION_BOT_MESSAGE_REQUESTED: sessions.chat_session_bot_message_requested,
    events.CHAT_SESSION_BOT_MESSAGE_SENT: sessions.chat_session_reply_recorded,
    events.CHAT_SESSION_DELIVERY_RECORDED: sessions.session_version_moves,
    events.CHAT_SESSION_TAGGED: sessions.chat_session_tagged,
    events.CHAT_SESSION_UNTAGGED: sessions.chat_session_untagged,
    events.MESSAGING_CHANNEL_CREATED: chatbots.messaging_channel_created,
    events.FILE_CREATED: files.file_created,
    events.FILE_ATTACHED: files.file_attached,
    events.SUBSCRIPTION_CREATED: subscriptions.subscription_created,
    events.SUBSCRIPTION_DISABLED: subscriptions.subscription_disabled,
    events.STORED_RESPONSE_CREATED: responses.stored_response_created,
    events.STORED_RESPONSE_DELETED: responses.stored_response_deleted,
}


def writes_for(envelope: dict) -> list[Write]:
    """The read-model writes for one event; events of types this version does not know change nothing."""
    project = PROJECTIONS.get(envelope["type"])
    if project is None:
        return []
    data = PAYLOAD_SCHEMAS[envelope["type"]].load(envelope["data"])
    return project(envelope, data)
