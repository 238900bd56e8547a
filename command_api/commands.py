"""Commands: what a caller asks the write model to do. Plain immutable values, no behaviour."""

from dataclasses import dataclass, field

from command_api.domain.oauth_client import DEFAULT_TOKEN_LIFETIME_S
from schemas.roles import DEFAULT_ROLE


@dataclass(frozen=True)
class CreateTeam:
    slug: str
    name: str


@dataclass(frozen=True)
class IssueApiKey:
    team: str
    name: str
    read_only: bool
    user: str | None = None
    roles: tuple[str, ...] = (DEFAULT_ROLE,)
    expires_at: str | None = None  # ISO-8601


@dataclass(frozen=True)
class RevokeApiKey:
    prefix: str


@dataclass(frozen=True)
class RegisterOAuthClient:
    team: str
    name: str
    grant_type: str
    scopes: tuple[str, ...]
    chatbots: tuple[str, ...] = ()
    redirect_uris: tuple[str, ...] = ()
    token_lifetime_s: int = DEFAULT_TOKEN_LIFETIME_S


@dataclass(frozen=True)
class IssueAuthorizationCode:
    """A resource owner consented to a client's request (the secrets arrive hashed)."""

    code_id: str
    secret_hash: str
    client_id: str
    user: str
    roles: tuple[str, ...]
    scopes: tuple[str, ...]
    redirect_uri: str | None
    code_challenge: str
    code_challenge_method: str


@dataclass(frozen=True)
class IssueOAuthToken:
    """A token for a client, recorded together with what it consumes: the authorization code it redeems,
    or the token it replaces on refresh, so a code or refresh token is never used twice."""

    token_id: str
    client_id: str
    user: str | None
    roles: tuple[str, ...]
    scopes: tuple[str, ...]
    access_hash: str
    refresh_hash: str | None
    redeems_code: str | None = None
    replaces_token: str | None = None


@dataclass(frozen=True)
class RevokeOAuthToken:
    token_id: str


@dataclass(frozen=True)
class SetModelPrice:
    """A model's price in the team's table, per million prompt and completion tokens (decimal text)."""

    team: str
    model: str
    prompt_per_million: str
    completion_per_million: str
    currency: str


@dataclass(frozen=True)
class SetAllowedOrigins:
    """The web pages that may call the team's API from a browser with credentials; replaces the list."""

    team: str
    origins: tuple[str, ...]


@dataclass(frozen=True)
class StartCookieSession:
    """A browser signs in with a team credential (`api_key:<prefix>` or `oauth_token:<id>`); the cookie's secret
    arrives hashed."""

    session_id: str
    team: str
    credential: str
    secret_hash: str
    lifetime_s: int


@dataclass(frozen=True)
class EndCookieSession:
    session_id: str


@dataclass(frozen=True)
class CreateChatbot:
    team: str
    name: str
    description: str
    prompt: str
    provider: str
    model: str
    base_url: str | None
    llm_api_key: str | None
    pipeline: dict | None = None


@dataclass(frozen=True)
class PublishVersion:
    chatbot_id: str
    description: str
    make_default: bool
    pipeline: dict | None = None  # the working version answers through it from now on, and so does the snapshot


@dataclass(frozen=True)
class CreateWidgetChannel:
    chatbot_id: str
    allowed_domains: tuple[str, ...]
    auth_level: str
    credential_mode: str = "embed_key"


@dataclass(frozen=True)
class CreateSession:
    """POST /api/sessions/: a session on the team's API channel, optionally with history."""

    team: str
    caller: str | None  # the identity the credential acts as; the default participant
    experiment: str
    participant: str | None
    messages: tuple[dict, ...] = ()
    state: dict = field(default_factory=dict)
    page_context: dict | None = None


@dataclass(frozen=True)
class SetWidgetEnabled:
    channel_id: str
    enabled: bool
    disabled_message: str = ""


@dataclass(frozen=True)
class StartChatSession:
    """POST /api/chat/start/ by an anonymous or embed-key caller (the widget already admitted)."""

    chatbot_id: str
    widget_channel_id: str | None
    version_number: int | None
    participant_remote_id: str
    participant_name: str | None
    page_context: dict | None


@dataclass(frozen=True)
class UploadedContent:
    name: str
    claimed_type: str
    content: bytes


@dataclass(frozen=True)
class UploadChatFiles:
    session_id: str
    files: tuple[UploadedContent, ...]
    participant_remote_id: str
    participant_name: str


@dataclass(frozen=True)
class SubmitChatMessage:
    session_id: str
    text: str
    context: dict | None
    attachment_ids: tuple[int, ...]
    version_number: int | None
    task_id: str | None = None  # the request's id, so that one id follows the message to its reply


@dataclass(frozen=True)
class RecordReply:
    """The bot's reply, with what a pipeline changed while producing it (None: unchanged)."""

    session_id: str
    task_id: str
    text: str
    tags: tuple[str, ...]
    state: dict | None = None
    participant_data: dict | None = None
    session_tags: tuple[str, ...] = ()
    ends_session: bool = False
    trace: tuple[dict, ...] | None = None
    metadata: dict | None = None  # the reply message's (`{"cancelled": true}` for a stopped one)
    usage: dict | None = None  # tokens the provider reported
    model: str | None = None  # the answering version's model, which prices the tokens


@dataclass(frozen=True)
class CancelReply:
    """The user asked to stop generating the reply to a task (`POST .../{task_id}/cancel/`)."""

    session_id: str
    task_id: str


@dataclass(frozen=True)
class RecordReplyFailure:
    session_id: str
    task_id: str
    error: str
    user_facing: bool


@dataclass(frozen=True)
class EndSession:
    team: str
    session_id: str


@dataclass(frozen=True)
class TagSession:
    """Add (or, with `remove`, take off) user tags."""

    team: str
    session_id: str
    tags: tuple[str, ...]
    remove: bool = False


@dataclass(frozen=True)
class ReplaceSessionState:
    team: str
    session_id: str
    state: dict


@dataclass(frozen=True)
class ParticipantEntry:
    """One chatbot's part of a participant upsert."""

    chatbot_id: str
    data: dict | None
    schedules: tuple[dict, ...]


@dataclass(frozen=True)
class UpsertParticipant:
    team: str
    caller: str | None
    identifier: str
    platform: str
    name: str | None
    entries: tuple[ParticipantEntry, ...]


@dataclass(frozen=True)
class StartCompletion:
    """OpenAI-compatible chat completion: a new session holding the history, answering the last message."""

    team: str
    caller: str | None
    chatbot_id: str
    version_number: int | None
    participant: str | None
    history: tuple[dict, ...]
    text: str


@dataclass(frozen=True)
class StartResponse(StartCompletion):
    """The Responses API: a chat completion's exchange, in a new session or after the conversation of
    `previous_response_id`."""

    previous_response_id: str | None = None
    has_instructions: bool = False  # a chatbot that answers through a pipeline has no prompt to add them to


@dataclass(frozen=True)
class StoreResponse:
    """Keep a response that has ended, for its client to retrieve, continue or delete."""

    response_id: str
    team: str
    chatbot_id: str
    session_id: str
    task_id: str
    input_message_ids: tuple[str, ...]
    previous_response_id: str | None
    instructions: str | None
    metadata: tuple[tuple[str, str], ...]
    model: str
    status: str
    error: str | None
    usage: dict | None
    created_at: int


@dataclass(frozen=True)
class DeleteResponse:
    team: str
    chatbot_id: str
    response_id: str


@dataclass(frozen=True)
class SendApiMessage:
    """`incoming_message`: the caller's message in their conversation with the chatbot."""

    team: str
    caller: str | None
    chatbot_id: str
    version_number: int | None
    session_id: str | None
    text: str


@dataclass(frozen=True)
class CreateMessagingChannel:
    chatbot_id: str
    platform: str
    webhook_url: str | None


@dataclass(frozen=True)
class TriggerBotMessage:
    """POST /api/trigger_bot: the bot messages a participant on a messaging channel."""

    team: str
    identifier: str
    platform: str
    chatbot_id: str
    prompt_text: str | None
    message_text: str | None
    start_new_session: bool
    session_data: dict
    participant_data: dict


@dataclass(frozen=True)
class RecordBotMessage:
    session_id: str
    task_id: str
    text: str
    direct_to_user: bool
    tags: tuple[str, ...]
    usage: dict | None = None  # tokens the provider reported, for a message written from a prompt
    model: str | None = None  # the model that wrote it, which prices the tokens


@dataclass(frozen=True)
class RecordDelivery:
    session_id: str
    message_id: str
    delivered: bool
    attempts: int
    error: str | None


@dataclass(frozen=True)
class CreateSubscription:
    """A webhook subscription of the team's events of `event_types` (all when empty)."""

    team: str
    url: str
    event_types: tuple[str, ...]


@dataclass(frozen=True)
class DisableSubscription:
    subscription_id: str
