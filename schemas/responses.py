"""Response bodies and error bodies as marshmallow schemas, for the OpenAPI document (`schemas/openapi/`).

They describe what `schemas/representations.py` and the views render (SPEC §2, §1.9); nothing renders with
them. Names follow OCS's schema (`components.schemas` of its v1.yml) wherever OCS has one.
"""

from marshmallow import EXCLUDE, INCLUDE, Schema, fields
from marshmallow.validate import OneOf

from schemas.events import Envelope
from schemas.requests import MESSAGE_ROLES
from schemas.session_status import SESSION_STATUSES

TOKEN_ERROR_CODES = ("session_token_required", "session_token_invalid", "session_expired", "chat_access_denied")


class Representation(Schema):
    class Meta:
        # EXCLUDE keeps `additionalProperties: false` out of the document: new fields are additive.
        unknown = EXCLUDE


def url(**kwargs) -> fields.Url:
    return fields.Url(metadata={"format": "uri", **kwargs.pop("metadata", {})}, **kwargs)


def one_of(choices, **kwargs) -> fields.String:
    return fields.String(validate=OneOf(choices), **kwargs)


class ExperimentVersion(Representation):
    name = fields.String(required=True)
    version_number = fields.Integer(required=True)
    is_default_version = fields.Boolean(required=True, metadata={"description": "the published version"})
    version_description = fields.String(required=True)


class Experiment(Representation):
    id = fields.UUID(required=True, metadata={"description": "the chatbot's (working version's) UUID"})
    name = fields.String(required=True)
    url = url(required=True)
    version_number = fields.Integer(required=True, metadata={"description": "the number the next version will get"})
    versions = fields.List(
        fields.Nested(ExperimentVersion),
        required=True,
        metadata={"description": "published versions, not archived, by `version_number`"},
    )


class ExperimentStub(Representation):
    id = fields.UUID(required=True)
    name = fields.String(required=True)
    description = fields.String(required=True, allow_none=True)
    url = url(required=True)
    version_number = fields.Integer(required=True)


class Team(Representation):
    name = fields.String(required=True)
    slug = fields.String(required=True)


class Participant(Representation):
    identifier = fields.String(required=True)
    remote_id = fields.String(required=True)


class File(Representation):
    name = fields.String(required=True)
    content_type = fields.String(required=True)
    size = fields.Integer(required=True, metadata={"description": "bytes"})
    content_url = url(required=True, metadata={"description": "`GET` it with a team API key"})


class Message(Representation):
    created_at = fields.DateTime(required=True)
    role = one_of(MESSAGE_ROLES, required=True)
    content = fields.String(required=True)
    metadata = fields.Dict(required=True)
    tags = fields.List(fields.String(), required=True)
    attachments = fields.List(fields.Nested(File), required=True)


class SessionModelUsage(Representation):
    model_name = fields.String(required=True)
    cost = fields.String(required=True, metadata={"format": "decimal"})
    tokens = fields.Integer(required=True)


class SessionUsage(Representation):
    total_cost = fields.String(required=True, metadata={"format": "decimal", "example": "0.00000000"})
    by_model = fields.List(fields.Nested(SessionModelUsage), required=True)


class ExperimentSession(Representation):
    url = url(required=True)
    id = fields.String(required=True)
    team = fields.Nested(Team, required=True)
    experiment = fields.Nested(ExperimentStub, required=True)
    participant = fields.Nested(Participant, required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    status = one_of(SESSION_STATUSES, required=True)
    platform = fields.String(required=True, allow_none=True)
    tags = fields.List(fields.String(), required=True)
    state = fields.Raw(required=True, metadata={"description": "page context is kept in `state.page_context`"})


class ExperimentSessionWithMessages(ExperimentSession):
    messages = fields.List(fields.Nested(Message), required=True)
    usage = fields.Nested(SessionUsage, required=True)


class ParticipantDataEntry(Representation):
    chatbot = fields.String(required=True, metadata={"description": "the chatbot's name"})
    chatbot_id = fields.UUID(required=True)
    data = fields.Dict(required=True)
    connect_channel_id = fields.String(required=True, allow_none=True)


class ParticipantDetail(Representation):
    id = fields.UUID(required=True)
    identifier = fields.String(required=True)
    name = fields.String(required=True)
    platform = fields.String(required=True)
    remote_id = fields.String(required=True)
    data = fields.List(fields.Nested(ParticipantDataEntry), required=True)


class Page(Representation):
    next = url(required=True, allow_none=True)
    previous = url(required=True, allow_none=True)
    count = fields.Integer(metadata={"description": "matching rows; on the first page (no `cursor`) only"})


class PaginatedExperimentList(Page):
    results = fields.List(fields.Nested(Experiment), required=True)


class PaginatedExperimentSessionList(Page):
    results = fields.List(fields.Nested(ExperimentSession), required=True)


class PaginatedParticipantDetailList(Page):
    results = fields.List(fields.Nested(ParticipantDetail), required=True)


class SessionTags(Representation):
    tags = fields.List(fields.String(), required=True, metadata={"description": "every tag now on the session"})


class SessionStateUpdated(Representation):
    success = fields.Boolean(required=True)
    state = fields.Raw(required=True)


class ChatStartSessionResponse(Representation):
    session_id = fields.UUID(required=True)
    session_token = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "send it as `X-Session-Token`; null for widget channels at level `embed_key`/`none`"},
    )
    chatbot = fields.Nested(Experiment, required=True)
    participant = fields.Nested(Participant, required=True)


class UploadedFile(Representation):
    id = fields.Integer(required=True, metadata={"description": "for `attachment_ids`"})
    name = fields.String(required=True)
    size = fields.Integer(required=True)
    content_type = fields.String(required=True)


class ChatUploadFileResponse(Representation):
    files = fields.List(fields.Nested(UploadedFile), required=True)


class ChatSendMessageResponse(Representation):
    task_id = fields.String(required=True)
    status = one_of(("processing",), required=True)


class ChatTaskCancelling(Representation):
    task_id = fields.String(required=True)
    status = one_of(("cancelling",), required=True)


class ChatPollResponse(Representation):
    messages = fields.List(fields.Nested(Message), required=True)
    has_more = fields.Boolean(required=True)
    session_status = one_of(("active", "ended"), required=True)


class ChatTaskPoll(Representation):
    message = fields.Nested(Message, required=True, allow_none=True)
    status = one_of(("processing", "complete"), required=True)


class ChatCompletionResponseMessage(Representation):
    role = one_of(("assistant",), required=True)
    content = fields.String(required=True)


class ChatCompletionResponseChoices(Representation):
    index = fields.Integer(required=True)
    finish_reason = fields.String(required=True)
    message = fields.Nested(ChatCompletionResponseMessage, required=True)


class CreateChatCompletionResponse(Representation):
    id = fields.String(required=True, metadata={"description": "the session this exchange was stored in"})
    object = one_of(("chat.completion",), required=True)
    created = fields.Integer(required=True, metadata={"description": "Unix seconds"})
    model = fields.String(required=True)
    choices = fields.List(fields.Nested(ChatCompletionResponseChoices), required=True)


class ResponseContentPart(Representation):
    type = one_of(("input_text", "output_text"), required=True)
    text = fields.String(required=True)
    annotations = fields.List(fields.Dict(), metadata={"description": "output text only: always empty"})
    logprobs = fields.List(fields.Dict(), metadata={"description": "output text only: always empty"})


class ResponseMessageItem(Representation):
    id = fields.String(required=True, metadata={"description": "`msg_<hex>`"})
    type = one_of(("message",), required=True)
    role = one_of(MESSAGE_ROLES, required=True, metadata={"description": "a `developer` input is kept as `system`"})
    status = one_of(("in_progress", "completed"), required=True)
    content = fields.List(fields.Nested(ResponseContentPart), required=True)


class ResponseErrorDetail(Representation):
    code = fields.String(required=True)
    message = fields.String(required=True)


class ResponseUsage(Representation):
    input_tokens = fields.Integer(required=True)
    input_tokens_details = fields.Dict(required=True, metadata={"description": "`cached_tokens`: 0"})
    output_tokens = fields.Integer(required=True)
    output_tokens_details = fields.Dict(required=True, metadata={"description": "`reasoning_tokens`: 0"})
    total_tokens = fields.Integer(required=True)


class ModelResponse(Representation):
    """A Responses API response (OpenAI's `Response` object, with the fields this server fills)."""

    id = fields.String(required=True, metadata={"description": "`resp_<hex>`"})
    object = one_of(("response",), required=True)
    created_at = fields.Integer(required=True, metadata={"description": "Unix seconds"})
    status = one_of(("in_progress", "completed", "failed"), required=True)
    error = fields.Nested(ResponseErrorDetail, required=True, allow_none=True)
    incomplete_details = fields.Dict(required=True, allow_none=True, metadata={"description": "always null"})
    instructions = fields.String(required=True, allow_none=True)
    metadata = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    model = fields.String(required=True, metadata={"description": "the answering chatbot version's model"})
    output = fields.List(
        fields.Nested(ResponseMessageItem), required=True, metadata={"description": "the reply, once completed"}
    )
    output_text = fields.String(required=True, metadata={"description": "the reply's text (as OpenAI's SDKs join it)"})
    parallel_tool_calls = fields.Boolean(required=True)
    previous_response_id = fields.String(required=True, allow_none=True)
    store = fields.Boolean(required=True)
    temperature = fields.Float(required=True, allow_none=True, metadata={"description": "the chatbot's own: null"})
    text = fields.Dict(required=True, metadata={"description": 'always `{"format": {"type": "text"}}`'})
    tool_choice = one_of(("none",), required=True)
    tools = fields.List(fields.Dict(), required=True, metadata={"description": "always empty"})
    top_p = fields.Float(required=True, allow_none=True, metadata={"description": "the chatbot's own: null"})
    truncation = one_of(("disabled",), required=True)
    usage = fields.Nested(ResponseUsage, required=True, allow_none=True)


class ResponseInputItemList(Representation):
    object = one_of(("list",), required=True)
    data = fields.List(fields.Nested(ResponseMessageItem), required=True)
    first_id = fields.String(required=True, allow_none=True)
    last_id = fields.String(required=True, allow_none=True)
    has_more = fields.Boolean(required=True)


class ResponseDeleted(Representation):
    id = fields.String(required=True)
    object = one_of(("response.deleted",), required=True)
    deleted = fields.Boolean(required=True)


class ApiResponseAttachment(Representation):
    file_name = fields.String(required=True)
    link = fields.String(required=True)


class ApiResponseMessage(Representation):
    response = fields.String(required=True)
    attachments = fields.List(fields.Nested(ApiResponseAttachment), required=True)
    session_id = fields.String(
        required=True, metadata={"description": "beyond OCS (its issue #653): the session the message went to"}
    )


class TriggerBotMessageResponse(Representation):
    session_id = fields.String(required=True)
    url = url(required=True)
    team = fields.Nested(Team, required=True)
    channel = fields.String(required=True, metadata={"description": "the session's platform, e.g. `whatsapp`"})


class EventPage(Representation):
    events = fields.List(
        fields.Nested(Envelope),
        required=True,
        metadata={"description": "the team's events in log order, each as published (docs/events.md)"},
    )
    next = fields.String(
        required=True, metadata={"description": "ask `after=` it for what follows (the same cursor while nothing has)"}
    )


class CookieSession(Representation):
    team = fields.String(required=True, metadata={"description": "the team the cookie acts for"})
    user = fields.String(
        required=True, allow_none=True, metadata={"description": "the user it acts as; null for a machine token's"}
    )
    read_only = fields.Boolean(required=True, metadata={"description": "true: it may only read, as its credential"})
    expires_at = fields.String(
        required=True,
        metadata={"description": "ISO-8601 instant the session ends, unless its credential is revoked or ends first"},
    )
    csrf_token = fields.String(
        required=True, metadata={"description": "send it as `X-CSRFToken` on every POST, PATCH and DELETE"}
    )


class HealthReport(Representation):
    status = one_of(("ok", "degraded"), required=True)
    components = fields.Dict(keys=fields.String(), values=one_of(("ok", "down", "stuck", "parked")), required=True)
    replicas = fields.Dict(
        keys=fields.String(),
        values=one_of(("ok", "down", "stuck")),
        required=True,
        metadata={"description": "each replica of a background component, as `<component>@<instance id>`"},
    )
    problems = fields.List(fields.String(), required=True, metadata={"description": "why each part is not ok"})


class ReadinessReport(Representation):
    status = one_of(("ok", "unavailable"), required=True)
    components = fields.Dict(keys=fields.String(), values=one_of(("ok", "down")), required=True)
    pipeline = one_of(
        ("ok", "degraded"), required=True, metadata={"description": "what /healthz says; the status code ignores it"}
    )


# Error bodies (SPEC §1.9), one per shape of the catalogue.


class Detail(Representation):
    """E1: framework errors (401, 403, 404, 405, 415), `Invalid cursor`, admission errors without a code."""

    detail = fields.String(required=True)


class FieldErrors(Schema):
    """E2: body validation, keyed by field: a list of texts (a plain text for a few), nested for lists."""

    class Meta:
        unknown = INCLUDE

    non_field_errors = fields.List(fields.String())


class Error(Representation):
    """E3: session actions' and chat endpoints' business errors."""

    error = fields.String(required=True)


class ChatAccessError(Representation):
    """E4: chat access refused."""

    error = fields.String(required=True)
    code = one_of(TOKEN_ERROR_CODES, required=True)


class OpenAiErrorDetail(Representation):
    message = fields.String(required=True)
    type = fields.String(required=True)
    param = fields.String(required=True, allow_none=True)
    code = fields.String(required=True, allow_none=True)


class OpenAiError(Representation):
    """E5: the OpenAI-compatible endpoint's own errors, shaped as OpenAI's."""

    error = fields.Nested(OpenAiErrorDetail, required=True)


class MissingExperiment(Representation):
    message = fields.String(required=True, metadata={"example": "Experiment <uuid> not found"})


class ExperimentsNotFound(Representation):
    """E6: `POST /api/participants` naming chatbots the team does not have."""

    errors = fields.List(fields.Nested(MissingExperiment), required=True)


class RateLimited(Representation):
    """E7: 429, when rate limits are enforced."""

    detail = fields.String(required=True)
    available_in = fields.Integer(required=True, metadata={"description": "seconds"})


class TaskError(Representation):
    """E8: a chat task that ended in an error."""

    error = fields.String(required=True)
    status = one_of(("error",), required=True)


class OAuthError(Representation):
    """The OAuth2 server's errors (RFC 6749 §5.2)."""

    error = fields.String(required=True, metadata={"description": "`invalid_client`, `invalid_grant`, ..."})
    error_description = fields.String()


class ConsentRequest(Representation):
    """What a client asks the resource owner to grant."""

    client_id = fields.String(required=True)
    client_name = fields.String(required=True)
    team = fields.String(required=True)
    user = fields.String(required=True, metadata={"description": "the API key's user, who would consent"})
    scopes = fields.List(fields.String(), required=True)
    redirect_uri = fields.String(required=True)
    consent = fields.String(required=True)


class TokenIssued(Representation):
    access_token = fields.String(required=True)
    token_type = one_of(("Bearer",), required=True)
    expires_in = fields.Integer(required=True, metadata={"description": "seconds"})
    scope = fields.String(required=True, metadata={"description": "space-separated"})
    refresh_token = fields.String(metadata={"description": "authorization-code grants only; used once"})


class TokenIntrospection(Representation):
    active = fields.Boolean(required=True)
    client_id = fields.String()
    token_type = fields.String()
    scope = fields.String()
    iat = fields.Integer()
    exp = fields.Integer()
    team = fields.String()
    username = fields.String()
    sub = fields.String()
    chatbots = fields.List(fields.String(), metadata={"description": "a machine token's chatbot allowlist"})


ERROR_BODIES = (
    Detail,
    FieldErrors,
    Error,
    ChatAccessError,
    OpenAiError,
    ExperimentsNotFound,
    RateLimited,
    TaskError,
    OAuthError,
)
