"""Each event type's payload: the data an event carries beside its envelope (`schemas/events.py` maps types to
these). Adding a field is compatible; renaming or removing one needs a new schema version."""

from marshmallow import EXCLUDE, Schema, fields


class Payload(Schema):
    """An event's own data; the team it belongs to is in the envelope."""

    class Meta:
        unknown = EXCLUDE


class TeamCreated(Payload):
    name = fields.Str(required=True)


class ModelPrice(Schema):
    model = fields.Str(required=True, metadata={"description": "the model's name, as chatbots name it"})
    prompt_per_million = fields.Str(required=True, metadata={"description": "price of a million prompt tokens"})
    completion_per_million = fields.Str(required=True, metadata={"description": "price of a million completion tokens"})


class TeamModelPricesChanged(Payload):
    """The team's whole price table, which prices its usage (`GET /api/v2/usage/`); prices are decimal text."""

    currency = fields.Str(required=True, metadata={"description": "ISO currency code of every price"})
    prices = fields.List(fields.Nested(ModelPrice), required=True)


class TeamAllowedOriginsChanged(Payload):
    origins = fields.List(
        fields.Str(),
        required=True,
        metadata={
            "description": "every origin (`https://app.example.com`) whose pages may call the API with credentials"
        },
    )


class ApiKeyCreated(Payload):
    prefix = fields.Str(required=True, metadata={"description": "public part of `<prefix>.<secret>`"})
    secret_hash = fields.Str(required=True, metadata={"description": "SHA-256 hex digest of the secret"})
    name = fields.Str(required=True)
    user = fields.Str(required=True, metadata={"description": "identity the key acts as"})
    read_only = fields.Bool(required=True)
    roles = fields.List(
        fields.Str(), load_default=["Super Admin"], metadata={"description": "the user's roles in the team"}
    )
    expires_at = fields.Str(
        allow_none=True, load_default=None, metadata={"description": "ISO-8601 instant it stops working; null: never"}
    )


class ApiKeyRevoked(Payload):
    """No fields: the key named by the envelope's aggregate id is refused from now on."""


class OAuthClientCreated(Payload):
    """An OAuth2 client (application) of the team; tokens it obtains are pinned to the team."""

    client_id = fields.Str(required=True)
    secret_hash = fields.Str(required=True, metadata={"description": "SHA-256 hex digest of the client secret"})
    name = fields.Str(required=True)
    grant_type = fields.Str(required=True, metadata={"description": "`client_credentials` or `authorization_code`"})
    scopes = fields.List(fields.Str(), required=True, metadata={"description": "the most any of its tokens carries"})
    chatbots = fields.List(
        fields.Str(), required=True, metadata={"description": "chatbot ids its machine tokens may converse with"}
    )
    redirect_uris = fields.List(fields.Str(), required=True)
    token_lifetime_s = fields.Int(required=True, metadata={"description": "access-token lifetime in seconds"})


class AuthorizationCodeCreated(Payload):
    """A resource owner consented; the code is redeemable once, for ten minutes."""

    client_id = fields.Str(required=True)
    secret_hash = fields.Str(required=True)
    user = fields.Str(required=True)
    roles = fields.List(fields.Str(), required=True, metadata={"description": "the consenting user's roles"})
    scopes = fields.List(fields.Str(), required=True)
    redirect_uri = fields.Str(allow_none=True, required=True)
    code_challenge = fields.Str(required=True, metadata={"description": "PKCE S256 challenge"})
    code_challenge_method = fields.Str(required=True)


class AuthorizationCodeRedeemed(Payload):
    token_id = fields.Str(required=True, metadata={"description": "aggregate id of the token it was exchanged for"})


class OAuthTokenCreated(Payload):
    """An access token (and refresh token, for user grants); only hashes of their secrets."""

    client_id = fields.Str(required=True)
    user = fields.Str(allow_none=True, required=True, metadata={"description": "null for machine tokens"})
    roles = fields.List(fields.Str(), required=True, metadata={"description": "the user's roles; none for machines"})
    scopes = fields.List(fields.Str(), required=True)
    chatbots = fields.List(
        fields.Str(), allow_none=True, required=True, metadata={"description": "a machine token's chatbot allowlist"}
    )
    access_hash = fields.Str(required=True)
    refresh_hash = fields.Str(allow_none=True, required=True)
    expires_in = fields.Int(required=True, metadata={"description": "seconds from occurred_at"})


class OAuthTokenRevoked(Payload):
    """No fields: the token (access and refresh) is refused from now on."""


class CookieSessionCreated(Payload):
    """A browser signed in with a team credential (`POST /api/auth/session/`); only a hash of the cookie's secret."""

    credential = fields.Str(
        required=True,
        metadata={"description": "what it acts as: `api_key:<prefix>` or `oauth_token:<token aggregate id>`"},
    )
    secret_hash = fields.Str(required=True, metadata={"description": "SHA-256 hex digest of the cookie's secret"})
    lifetime_s = fields.Int(required=True, metadata={"description": "seconds from occurred_at"})


class CookieSessionEnded(Payload):
    """No fields: the browser signed out; the cookie is refused from now on."""


class LlmConfig(Schema):
    """How a chatbot answers. The provider's API key is never published."""

    class Meta:
        unknown = EXCLUDE

    prompt = fields.Str(required=True)
    provider = fields.Str(required=True, metadata={"description": "`openai` (any compatible base URL) or `echo`"})
    model = fields.Str(required=True)
    base_url = fields.Str(allow_none=True, load_default=None)
    pipeline = fields.Dict(
        allow_none=True,
        load_default=None,
        metadata={
            "description": "nodes and edges, in the graph form (docs/pipelines.md; recorded before it, in the earlier "
            "form, which readers convert); null: the prompt answers"
        },
    )


class ChatbotCreated(Payload):
    name = fields.Str(required=True)
    description = fields.Str(required=True)
    llm = fields.Nested(LlmConfig, required=True)


class ChatbotPipelineChanged(Payload):
    pipeline = fields.Dict(
        allow_none=True,
        required=True,
        metadata={"description": "the working version's, as `llm.pipeline` of `Chatbot.Created` (null: its prompt)"},
    )


class ChatbotVersionPublished(Payload):
    name = fields.Str(required=True, metadata={"description": "the chatbot's name when published"})
    version_id = fields.Str(required=True, metadata={"description": "the version snapshot's own public id"})
    version_number = fields.Int(required=True)
    version_description = fields.Str(required=True)
    is_default_version = fields.Bool(
        required=True, metadata={"description": "true moves the default away from every other version"}
    )
    llm = fields.Nested(LlmConfig, required=True)


class WidgetChannelCreated(Payload):
    chatbot_id = fields.Str(required=True)
    allowed_domains = fields.List(fields.Str(), required=True)
    auth_level = fields.Str(required=True, metadata={"description": "`session_token`, `embed_key` or `none`"})
    credential_mode = fields.Str(
        load_default="embed_key",
        metadata={"description": "`embed_key` (callers present the embed key) or `oauth` (a machine token)"},
    )


class ParticipantCreated(Payload):
    """One person on one platform of one team."""

    identifier = fields.Str(required=True)
    platform = fields.Str(required=True, metadata={"description": "`api`, `web`, `embedded_widget`, ..."})
    name = fields.Str(required=True)
    remote_id = fields.Str(required=True)
    user = fields.Str(allow_none=True, required=True)


class ChatSessionCreated(Payload):
    """The aggregate id is the session id clients see."""

    chatbot_id = fields.Str(required=True, metadata={"description": "the chatbot's own id (never a version's)"})
    participant_id = fields.Str(required=True)
    participant_identifier = fields.Str(required=True, metadata={"description": "email, phone, `anon:<uuid>`, ..."})
    participant_remote_id = fields.Str(required=True)
    channel_id = fields.Str(required=True, metadata={"description": "the team's API channel or a widget channel"})
    platform = fields.Str(allow_none=True, required=True, metadata={"description": "null for API-created sessions"})
    status = fields.Str(required=True, metadata={"description": "`setup`, `pending`, `active`, `pending-review`, ..."})
    state = fields.Dict(
        required=True, metadata={"description": "session state; `page_context` holds the client's page context"}
    )
    session_token_required = fields.Bool(required=True)


class Attachment(Schema):
    id = fields.Int(required=True, metadata={"description": "the file's id, as in `/api/files/{id}/content`"})
    name = fields.Str(required=True)
    content_type = fields.Str(required=True)
    size = fields.Int(required=True, metadata={"description": "bytes"})


class AppendedMessage(Schema):
    id = fields.Str(required=True)
    seq = fields.Int(required=True, metadata={"description": "position in the session, from 0"})
    created_at = fields.Str(required=True, metadata={"description": "ISO-8601, increasing within the session"})
    role = fields.Str(required=True, metadata={"description": "`system`, `user` or `assistant`"})
    content = fields.Str(required=True)
    metadata = fields.Dict(required=True)
    tags = fields.List(fields.Str(), required=True)
    attachments = fields.List(fields.Nested(Attachment), load_default=list, dump_default=list)


class ChatSessionMessagesAppended(Payload):
    """History added in one go (`POST /api/sessions/` with `messages`)."""

    messages = fields.List(fields.Nested(AppendedMessage), required=True)


class ChatSessionUserMessageSubmitted(Payload):
    """A user's message, accepted: a reply is now being produced for task `task_id`."""

    task_id = fields.Str(required=True)
    message = fields.Nested(AppendedMessage, required=True)
    version_number = fields.Int(
        allow_none=True,
        load_default=None,
        metadata={"description": "the chatbot version asked to answer; null: default"},
    )
    answered_in_request = fields.Bool(
        load_default=False,
        metadata={"description": "true: a synchronous endpoint answers it, the LLM workers leave it alone"},
    )


class ChatSessionBotMessageRequested(Payload):
    """`POST /api/trigger_bot`: the bot is to message the participant (exactly one of the two texts)."""

    task_id = fields.Str(required=True)
    prompt_text = fields.Str(allow_none=True, required=True, metadata={"description": "an instruction for the LLM"})
    message_text = fields.Str(allow_none=True, required=True, metadata={"description": "sent verbatim"})


class TokenUsage(Schema):
    prompt_tokens = fields.Int(required=True)
    completion_tokens = fields.Int(required=True)
    total_tokens = fields.Int(required=True)


def reported_usage() -> fields.Nested:
    return fields.Nested(
        TokenUsage,
        allow_none=True,
        load_default=None,
        metadata={"description": "tokens the provider reported for the message; null when it reported none"},
    )


def answering_model() -> fields.Str:
    return fields.Str(
        allow_none=True,
        load_default=None,
        metadata={
            "description": "the model of the chatbot version that wrote the message, which prices `usage` "
            "(`ocs admin set-model-price`); null when no model wrote it, or before it was kept"
        },
    )


class ChatSessionBotMessageSent(Payload):
    """The outbound message: the bot's message to `recipient` on a messaging channel, for subscribers (or the
    channel's webhook) to deliver on `platform`."""

    task_id = fields.Str(required=True)
    message = fields.Nested(AppendedMessage, required=True)
    channel_id = fields.Str(required=True)
    platform = fields.Str(required=True, metadata={"description": "`whatsapp`, `telegram`, ..."})
    recipient = fields.Str(required=True, metadata={"description": "the participant's identifier on the platform"})
    usage = reported_usage()
    model = answering_model()


class ChatSessionDeliveryRecorded(Payload):
    """A bot message was delivered to its channel's webhook, after `attempts` attempts (a parked one is recorded
    when a replay delivers it). Only events recorded before webhook subscriptions say `delivered: false`."""

    message_id = fields.Str(required=True)
    delivered = fields.Bool(required=True)
    attempts = fields.Int(required=True)
    error = fields.Str(allow_none=True, required=True)


class ChatSessionEnded(Payload):
    """Ended (`via`: `api`, `user`, ...): status `pending-review`."""

    via = fields.Str(required=True)


class ChatSessionTagged(Payload):
    """User tags newly on the session."""

    tags = fields.List(fields.Str(), required=True)


class ChatSessionUntagged(Payload):
    """User tags taken off the session."""

    tags = fields.List(fields.Str(), required=True)


class ChatSessionStateChanged(Payload):
    """The session's whole state after the change (a message's `context` lands in `remote_context`)."""

    state = fields.Dict(required=True)


class ChatSessionReplyRecorded(Payload):
    """The bot's reply to task `task_id`; its `tags` name the version that answered (`v3`, `v4-unreleased`)."""

    task_id = fields.Str(required=True)
    message = fields.Nested(AppendedMessage, required=True)
    trace = fields.List(
        fields.Dict(),
        allow_none=True,
        load_default=None,
        metadata={"description": "a pipeline's nodes as they ran: `id`, `type`, `output`, `printed`; null without one"},
    )
    usage = reported_usage()
    model = answering_model()


class ChatSessionReplyCancelRequested(Payload):
    """Stop generating the reply to task `task_id`: what was generated so far becomes the reply, marked cancelled."""

    task_id = fields.Str(required=True)


class ChatSessionReplyFailed(Payload):
    """No reply could be produced for task `task_id`."""

    task_id = fields.Str(required=True)
    error = fields.Str(required=True)
    user_facing = fields.Bool(required=True, metadata={"description": "true: `error` is meant for the chat user"})


class ParticipantDataChanged(Payload):
    """The participant's whole data for one chatbot, as it now is."""

    chatbot_id = fields.Str(required=True)
    data = fields.Dict(required=True)


class ParticipantSessionJoined(Payload):
    """A new session of this participant with a chatbot."""

    chatbot_id = fields.Str(required=True)
    session_id = fields.Str(required=True)


class ParticipantRenamed(Payload):
    name = fields.Str(required=True)


class ParticipantScheduleSet(Payload):
    """A one-off scheduled bot prompt for this participant and chatbot, created or updated."""

    chatbot_id = fields.Str(required=True)
    schedule_id = fields.Str(required=True, metadata={"description": "the client's id, or derived from the name"})
    name = fields.Str(required=True)
    prompt = fields.Str(required=True, metadata={"description": "sent to the bot when the schedule fires"})
    date = fields.Str(required=True, metadata={"description": "ISO-8601 instant it fires"})


class ParticipantScheduleCancelled(Payload):
    chatbot_id = fields.Str(required=True)
    schedule_id = fields.Str(required=True)
    cancelled_by = fields.Str(allow_none=True, required=True, metadata={"description": "the caller's identity"})


class WidgetChannelDisabled(Payload):
    disabled_message = fields.Str(required=True, metadata={"description": "shown to users; empty for the default"})


class WidgetChannelEnabled(Payload):
    pass


class MessagingChannelCreated(Payload):
    """A chatbot's channel on a messaging platform (at most one per platform)."""

    chatbot_id = fields.Str(required=True)
    platform = fields.Str(required=True)
    webhook_url = fields.Str(allow_none=True, required=True, metadata={"description": "where bot messages are POSTed"})


class FileCreated(Payload):
    """A file uploaded to a chat session; its bytes are in the file store under `file_id`."""

    file_id = fields.Int(required=True)
    session_id = fields.Str(required=True)
    name = fields.Str(required=True)
    content_type = fields.Str(required=True)
    size = fields.Int(required=True)
    purpose = fields.Str(required=True, metadata={"description": "`message_media` for chat uploads"})
    expires_at = fields.Str(allow_none=True, required=True, metadata={"description": "null once attached"})
    metadata = fields.Dict(required=True)


class FileAttached(Payload):
    message_id = fields.Str(required=True)


class SubscriptionCreated(Payload):
    """A webhook subscription of the team: each of its events of `event_types` is POSTed to `url`, signed (its
    secret is derived, never recorded)."""

    url = fields.Str(required=True, metadata={"description": "http or https"})
    event_types = fields.List(
        fields.Str(),
        required=True,
        metadata={"description": "exact types or `<Aggregate>.*`, as the feed's `types=`; empty: every event"},
    )


class SubscriptionDisabled(Payload):
    """Nothing more is delivered to it."""


class StoredResponseCreated(Payload):
    """A Responses API response its client kept (`store`), once it has ended: the aggregate id is the response's
    (`resp_<hex>` spells it without dashes). Its texts are the session's messages, named by id."""

    chatbot_id = fields.Str(required=True, metadata={"description": "the chatbot it was asked of (its base URL's)"})
    session_id = fields.Str(required=True, metadata={"description": "the chat session the exchange belongs to"})
    task_id = fields.Str(required=True, metadata={"description": "the task of the session's reply to its input"})
    input_message_ids = fields.List(
        fields.Str(), required=True, metadata={"description": "the session messages its `input` became, in order"}
    )
    previous_response_id = fields.Str(
        allow_none=True, required=True, metadata={"description": "the response it continues (an aggregate id)"}
    )
    instructions = fields.Str(allow_none=True, required=True, metadata={"description": "added to the prompt"})
    metadata = fields.List(
        fields.List(fields.Str()), required=True, metadata={"description": "the client's metadata, [key, value] pairs"}
    )
    model = fields.Str(required=True, metadata={"description": "the answering version's model"})
    status = fields.Str(required=True, metadata={"description": "`completed` or `failed`"})
    error = fields.Str(allow_none=True, required=True, metadata={"description": "why it failed; null if it did not"})
    usage = reported_usage()
    created_at = fields.Int(required=True, metadata={"description": "Unix seconds when it was asked for"})


class StoredResponseDeleted(Payload):
    """No fields: the response can no longer be retrieved or continued; its session's messages stay."""
