"""The event contract for subscribers: topics, every event type's name, the envelope every event carries, and
which payload schema (`schemas/event_payloads.py`) each type's data follows.

The write model's events are published exactly as dumped by these schemas, and projectors load them
with the same schemas, so producer and consumers share one definition. Adding a field is compatible;
renaming or removing one needs a new schema version (`SCHEMA_VERSIONS`).
"""

from marshmallow import Schema, fields

from schemas import event_payloads as p

# One topic per aggregate type; the message key is the aggregate id, so one aggregate's events keep
# their order on one partition.
TOPICS = {
    "Team": "ocs.teams",
    "ApiKey": "ocs.api_keys",
    "Chatbot": "ocs.chatbots",
    "WidgetChannel": "ocs.channels",
    "Participant": "ocs.participants",
    "ChatSession": "ocs.sessions",
    "File": "ocs.files",
    "MessagingChannel": "ocs.channels",
    "OAuthClient": "ocs.oauth",
    "AuthorizationCode": "ocs.oauth",
    "OAuthToken": "ocs.oauth",
    "CookieSession": "ocs.oauth",
    "Subscription": "ocs.subscriptions",
    "StoredResponse": "ocs.responses",
}


# Events the relay could not publish, or a consumer group could not apply, parked there with the reason
# (see `DeadLetter`).
DEAD_LETTER_TOPIC = "ocs.dead-letters"


# Event types (`<Aggregate>.<Event>`, the domain event's class name), the one spelling every producer and
# consumer uses.
TEAM_CREATED = "Team.Created"
TEAM_ALLOWED_ORIGINS_CHANGED = "Team.AllowedOriginsChanged"
TEAM_MODEL_PRICES_CHANGED = "Team.ModelPricesChanged"
API_KEY_CREATED = "ApiKey.Created"
API_KEY_REVOKED = "ApiKey.Revoked"
OAUTH_CLIENT_CREATED = "OAuthClient.Created"
AUTHORIZATION_CODE_CREATED = "AuthorizationCode.Created"
AUTHORIZATION_CODE_REDEEMED = "AuthorizationCode.Redeemed"
OAUTH_TOKEN_CREATED = "OAuthToken.Created"
OAUTH_TOKEN_REVOKED = "OAuthToken.Revoked"
COOKIE_SESSION_CREATED = "CookieSession.Created"
COOKIE_SESSION_ENDED = "CookieSession.Ended"
CHATBOT_CREATED = "Chatbot.Created"
CHATBOT_VERSION_PUBLISHED = "Chatbot.VersionPublished"
CHATBOT_PIPELINE_CHANGED = "Chatbot.PipelineChanged"
WIDGET_CHANNEL_CREATED = "WidgetChannel.Created"
PARTICIPANT_CREATED = "Participant.Created"
CHAT_SESSION_CREATED = "ChatSession.Created"
CHAT_SESSION_MESSAGES_APPENDED = "ChatSession.MessagesAppended"
CHAT_SESSION_USER_MESSAGE_SUBMITTED = "ChatSession.UserMessageSubmitted"
CHAT_SESSION_STATE_CHANGED = "ChatSession.StateChanged"
CHAT_SESSION_ENDED = "ChatSession.Ended"
CHAT_SESSION_BOT_MESSAGE_REQUESTED = "ChatSession.BotMessageRequested"
CHAT_SESSION_BOT_MESSAGE_SENT = "ChatSession.BotMessageSent"
CHAT_SESSION_DELIVERY_RECORDED = "ChatSession.DeliveryRecorded"
CHAT_SESSION_TAGGED = "ChatSession.Tagged"
CHAT_SESSION_UNTAGGED = "ChatSession.Untagged"
CHAT_SESSION_REPLY_RECORDED = "ChatSession.ReplyRecorded"
CHAT_SESSION_REPLY_FAILED = "ChatSession.ReplyFailed"
CHAT_SESSION_REPLY_CANCEL_REQUESTED = "ChatSession.ReplyCancelRequested"
PARTICIPANT_DATA_CHANGED = "Participant.DataChanged"
PARTICIPANT_RENAMED = "Participant.Renamed"
PARTICIPANT_SESSION_JOINED = "Participant.SessionJoined"
PARTICIPANT_SCHEDULE_SET = "Participant.ScheduleSet"
PARTICIPANT_SCHEDULE_CANCELLED = "Participant.ScheduleCancelled"
WIDGET_CHANNEL_DISABLED = "WidgetChannel.Disabled"
WIDGET_CHANNEL_ENABLED = "WidgetChannel.Enabled"
MESSAGING_CHANNEL_CREATED = "MessagingChannel.Created"
FILE_CREATED = "File.Created"
FILE_ATTACHED = "File.Attached"
SUBSCRIPTION_CREATED = "Subscription.Created"
SUBSCRIPTION_DISABLED = "Subscription.Disabled"
STORED_RESPONSE_CREATED = "StoredResponse.Created"
STORED_RESPONSE_DELETED = "StoredResponse.Deleted"

# Event type -> payload schema.
PAYLOADS: dict[str, type[p.Payload]] = {
    TEAM_CREATED: p.TeamCreated,
    TEAM_ALLOWED_ORIGINS_CHANGED: p.TeamAllowedOriginsChanged,
    TEAM_MODEL_PRICES_CHANGED: p.TeamModelPricesChanged,
    API_KEY_CREATED: p.ApiKeyCreated,
    API_KEY_REVOKED: p.ApiKeyRevoked,
    OAUTH_CLIENT_CREATED: p.OAuthClientCreated,
    AUTHORIZATION_CODE_CREATED: p.AuthorizationCodeCreated,
    AUTHORIZATION_CODE_REDEEMED: p.AuthorizationCodeRedeemed,
    OAUTH_TOKEN_CREATED: p.OAuthTokenCreated,
    OAUTH_TOKEN_REVOKED: p.OAuthTokenRevoked,
    COOKIE_SESSION_CREATED: p.CookieSessionCreated,
    COOKIE_SESSION_ENDED: p.CookieSessionEnded,
    CHATBOT_CREATED: p.ChatbotCreated,
    CHATBOT_VERSION_PUBLISHED: p.ChatbotVersionPublished,
    CHATBOT_PIPELINE_CHANGED: p.ChatbotPipelineChanged,
    WIDGET_CHANNEL_CREATED: p.WidgetChannelCreated,
    PARTICIPANT_CREATED: p.ParticipantCreated,
    CHAT_SESSION_CREATED: p.ChatSessionCreated,
    CHAT_SESSION_MESSAGES_APPENDED: p.ChatSessionMessagesAppended,
    CHAT_SESSION_USER_MESSAGE_SUBMITTED: p.ChatSessionUserMessageSubmitted,
    CHAT_SESSION_STATE_CHANGED: p.ChatSessionStateChanged,
    CHAT_SESSION_ENDED: p.ChatSessionEnded,
    CHAT_SESSION_BOT_MESSAGE_REQUESTED: p.ChatSessionBotMessageRequested,
    CHAT_SESSION_BOT_MESSAGE_SENT: p.ChatSessionBotMessageSent,
    CHAT_SESSION_DELIVERY_RECORDED: p.ChatSessionDeliveryRecorded,
    CHAT_SESSION_TAGGED: p.ChatSessionTagged,
    CHAT_SESSION_UNTAGGED: p.ChatSessionUntagged,
    CHAT_SESSION_REPLY_RECORDED: p.ChatSessionReplyRecorded,
    CHAT_SESSION_REPLY_FAILED: p.ChatSessionReplyFailed,
    CHAT_SESSION_REPLY_CANCEL_REQUESTED: p.ChatSessionReplyCancelRequested,
    PARTICIPANT_DATA_CHANGED: p.ParticipantDataChanged,
    PARTICIPANT_RENAMED: p.ParticipantRenamed,
    PARTICIPANT_SESSION_JOINED: p.ParticipantSessionJoined,
    PARTICIPANT_SCHEDULE_SET: p.ParticipantScheduleSet,
    PARTICIPANT_SCHEDULE_CANCELLED: p.ParticipantScheduleCancelled,
    WIDGET_CHANNEL_DISABLED: p.WidgetChannelDisabled,
    WIDGET_CHANNEL_ENABLED: p.WidgetChannelEnabled,
    MESSAGING_CHANNEL_CREATED: p.MessagingChannelCreated,
    FILE_CREATED: p.FileCreated,
    FILE_ATTACHED: p.FileAttached,
    SUBSCRIPTION_CREATED: p.SubscriptionCreated,
    SUBSCRIPTION_DISABLED: p.SubscriptionDisabled,
    STORED_RESPONSE_CREATED: p.StoredResponseCreated,
    STORED_RESPONSE_DELETED: p.StoredResponseDeleted,
}

# One instance per event type, made once: building a marshmallow schema costs more than using it, and the
# relay and the projector use one per event.
PAYLOAD_SCHEMAS: dict[str, p.Payload] = {event_type: schema() for event_type, schema in PAYLOADS.items()}

SCHEMA_VERSIONS: dict[str, int] = {event_type: 1 for event_type in PAYLOADS}


def payload_summary(event_type: str) -> str | None:
    """What the type's payload schema says of itself (its own docstring, not one it inherits)."""
    payload = PAYLOADS[event_type]
    return payload.__doc__.strip() if "__doc__" in vars(payload) and payload.__doc__ else None


# Events published on their topics only, never in a team's feed, stream or webhooks: credentials' carry secrets'
# hashes (and no team has a use for them), webhook subscriptions' URLs often hold a receiver's token.
NOT_IN_FEED = ("ApiKey", "OAuthClient", "AuthorizationCode", "OAuthToken", "CookieSession", "Subscription")
# What a team can follow of its own events, by its feed, its stream and its webhooks.
TEAM_EVENT_TYPES = [event_type for event_type in PAYLOADS if event_type.split(".")[0] not in NOT_IN_FEED]


class Envelope(Schema):
    """What every message on every topic carries (JSON, UTF-8)."""

    event_id = fields.Str(required=True, metadata={"description": "unique: derived from aggregate id and version"})
    type = fields.Str(required=True, metadata={"description": "`<Aggregate>.<Event>`, e.g. `ChatSession.Created`"})
    schema_version = fields.Int(required=True, metadata={"description": "version of this type's payload schema"})
    occurred_at = fields.Str(required=True, metadata={"description": "ISO-8601 instant the event was recorded"})
    team = fields.Str(required=True, metadata={"description": "slug of the team the aggregate belongs to"})
    aggregate_type = fields.Str(
        required=True, metadata={"description": "`Team`, `ApiKey`, `Chatbot`, ...; names the topic"}
    )
    aggregate_id = fields.Str(required=True, metadata={"description": "UUID; also the message key"})
    aggregate_version = fields.Int(required=True, metadata={"description": "1 for the creating event, +1 after"})
    position = fields.Int(
        required=True,
        metadata={"description": "position in the event store's log, increasing (a replay re-sends the same one)"},
    )
    data = fields.Dict(required=True, metadata={"description": "the payload, per the type's schema below"})


class DeadLetter(Schema):
    """A message on the dead-letter topic: an event the relay parked instead of publishing, or a consumer group
    instead of applying."""

    group = fields.Str(
        required=True, metadata={"description": "who parked it: `ocs-relay`, or a consumer group (`ocs-projectors`)"}
    )
    event_id = fields.Str(required=True)
    type = fields.Str(required=True)
    aggregate_id = fields.Str(required=True)
    aggregate_version = fields.Int(required=True)
    error = fields.Str(required=True, metadata={"description": "why it could not be applied"})
    attempts = fields.Int(required=True, metadata={"description": "0 when parked behind an earlier parked event"})
    position = fields.Int(required=True, metadata={"description": "the event's position in the event store's log"})
    parked_at = fields.Str(required=True)
    envelope = fields.Dict(
        required=True,
        allow_none=True,
        metadata={"description": "the event itself, as published; null from the relay (the event store has it)"},
    )
