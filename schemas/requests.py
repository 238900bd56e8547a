"""Request bodies and query parameters, validated with OCS's rules and error texts."""

from zoneinfo import ZoneInfo

from marshmallow import EXCLUDE, Schema, ValidationError, validates_schema

from schemas.errors import drf_shaped, error, field_errors, openai_error
from schemas.fields import (
    Boolean,
    Choice,
    Choices,
    DateTime,
    Integer,
    ListOf,
    LocalDateTime,
    NestedObject,
    Object,
    String,
    TimeZoneName,
    Uuid,
    type_name,
)
from schemas.session_state import PAGE_CONTEXT_KEY

MESSAGE_ROLES = ("system", "user", "assistant")
PLATFORMS = (
    "telegram",
    "web",
    "whatsapp",
    "facebook",
    "sureadhere",
    "api",
    "slack",
    "commcare_connect",
    "evaluations",
    "embedded_widget",
    "email",
)
# Bounds of our own (OCS has none) on lists whose items each become work for the read models: one message
# document each, or one event each on the same participant.
MAX_MESSAGES_PER_REQUEST = 1000
MAX_CHATBOTS_PER_UPSERT = 100
MAX_SCHEDULES_PER_CHATBOT = 100
RESERVED_KEY_MESSAGE = f"'{PAGE_CONTEXT_KEY}' is a reserved key: set it with the '{PAGE_CONTEXT_KEY}' parameter."


class Body(Schema):
    class Meta:
        # Like OCS, fields a client is not allowed to set (`url`, ...) are ignored, not refused.
        unknown = EXCLUDE


class MessageInput(Body):
    role = Choice(MESSAGE_ROLES, required=True)
    content = String(required=True)


def refuse_reserved_key(data: dict, field: str) -> None:
    if isinstance(data.get(field), dict) and PAGE_CONTEXT_KEY in data[field]:
        raise ValidationError({field: [RESERVED_KEY_MESSAGE]})


class SessionCreateRequest(Body):
    experiment = Uuid(required=True, invalid_message="“{value}” is not a valid UUID.")
    participant = String(max_length=320, load_default=None)
    messages = ListOf(NestedObject(MessageInput), load_default=list, max_length=MAX_MESSAGES_PER_REQUEST)
    state = Object(load_default=dict)
    page_context = Object(load_default=None, metadata={"description": "stored as `state.page_context`"})

    @validates_schema
    def state_has_no_reserved_key(self, data, **_):
        refuse_reserved_key(data, "state")


class ChatStartRequest(Body):
    chatbot_id = Uuid(required=True)
    version_number = Integer(allow_none=True, load_default=None)
    session_data = Object(load_default=dict)
    participant_remote_id = String(max_length=255, load_default="")
    participant_name = String(max_length=320, load_default=None)
    page_context = Object(load_default=None, metadata={"description": "stored as `state.page_context`"})

    @validates_schema
    def session_data_has_no_reserved_key(self, data, **_):
        refuse_reserved_key(data, "session_data")


class ChatMessageRequest(Body):
    message = String(required=True)
    context = Object(load_default=None, metadata={"description": "stored as `state.remote_context`"})
    attachment_ids = ListOf(Integer(), load_default=list)
    version_number = Integer(allow_none=True, load_default=None)


# OCS's tag names are at most 100 characters (its Tag model's); how many one request may name is ours.
MAX_TAG_LENGTH = 100
MAX_TAGS_PER_REQUEST = 100


def tag_names(body) -> list[str]:
    """`{"tags": [...]}` of the session tag endpoints, checked as OCS checks it (E3 bodies), and bounded."""
    tags = body.get("tags") if isinstance(body, dict) else None
    if tags is None or tags == []:
        raise error(400, "Missing 'tags' in request")
    if not isinstance(tags, list):
        raise error(400, "'tags' must be a list")
    if not all(isinstance(tag, str) and tag.strip() for tag in tags):
        raise error(400, "'tags' must be a list of non-empty strings")
    if len(tags) > MAX_TAGS_PER_REQUEST:
        raise error(400, f"'tags' must name at most {MAX_TAGS_PER_REQUEST} tags")
    if any(len(tag) > MAX_TAG_LENGTH for tag in tags):
        raise error(400, f"Each tag must be at most {MAX_TAG_LENGTH} characters")
    return tags


def replacement_state(body) -> dict:
    """`{"state": {...}}` of update_state: present and truthy (E3), an object without the reserved key (E2)."""
    state = body.get("state") if isinstance(body, dict) else None
    if not state:
        raise error(400, "Missing 'state' in request")
    if not isinstance(state, dict):
        raise field_errors({"state": [f'Expected a dictionary of items but got type "{type_name(state)}".']})
    if PAGE_CONTEXT_KEY in state:
        raise field_errors({"state": [RESERVED_KEY_MESSAGE]})
    return state


class ParticipantSchedule(Body):
    id = String(max_length=32, load_default=None)
    name = String(load_default=None)
    prompt = String(load_default=None)
    date = DateTime(load_default=None)
    delete = Boolean(load_default=False)

    @validates_schema
    def complete_for_its_action(self, data, **_):
        if data["delete"]:
            if not data["id"]:
                raise ValidationError("Schedule ID is required to delete a schedule")
        elif not (data["name"] and data["prompt"] and data["date"]):
            raise ValidationError("Schedule Name, Prompt, and Date are required to create or update a schedule")


class ParticipantExperimentData(Body):
    experiment = Uuid(required=True)
    data = Object(load_default=None)
    schedules = ListOf(NestedObject(ParticipantSchedule), load_default=list, max_length=MAX_SCHEDULES_PER_CHATBOT)


class ParticipantUpsertRequest(Body):
    identifier = String(required=True, max_length=320)
    name = String(max_length=320, load_default=None)
    platform = Choice(PLATFORMS, load_default="api")
    data = ListOf(NestedObject(ParticipantExperimentData), required=True, max_length=MAX_CHATBOTS_PER_UPSERT)


class ApiMessageRequest(Body):
    message = String(required=True)
    session = String(load_default=None)


def flattened_content(content):
    """OpenAI message content as one text: a list of text parts is joined with spaces (SPEC §3.10)."""
    if isinstance(content, list):
        if not all(isinstance(part, dict) and part.get("type") == "text" for part in content):
            raise openai_error(400, "Only text messages are supported")
        return " ".join(str(part.get("text", "")) for part in content)
    return content


def completion_messages(body) -> list[dict]:
    """The `messages` of a chat completion request, flattened and checked (E5 errors); the last is the user's."""
    messages = body.get("messages") if isinstance(body, dict) else None
    if not messages:
        raise openai_error(400, "No messages provided")
    if not isinstance(messages, list):
        raise openai_error(400, str({"messages": [f'Expected a list of items but got type "{type_name(messages)}".']}))
    if len(messages) > MAX_MESSAGES_PER_REQUEST:
        raise openai_error(400, f"At most {MAX_MESSAGES_PER_REQUEST} messages per request")
    flattened = [
        {**message, "content": flattened_content(message.get("content"))} if isinstance(message, dict) else message
        for message in messages
    ]
    try:
        checked = MessageInput(many=True).load(flattened)
    except ValidationError as exc:
        shaped = drf_shaped({"messages": exc.messages}, {"messages": flattened})
        raise openai_error(400, str(shaped)) from None
    if checked[-1]["role"] != "user":
        raise openai_error(400, "Last message must be a user message")
    return checked


class TriggerBotRequest(Body):
    identifier = String(required=True, max_length=320)
    platform = Choice(PLATFORMS, required=True)
    experiment = Uuid(required=True)
    prompt_text = String(allow_none=True, load_default=None)
    message_text = String(allow_none=True, load_default=None)
    start_new_session = Boolean(load_default=False)
    session_data = Object(load_default=dict)
    participant_data = Object(load_default=dict)

    @validates_schema
    def one_text_and_no_reserved_key(self, data, **_):
        if data["prompt_text"] is not None and data["message_text"] is not None:
            raise ValidationError("Provide either 'prompt_text' or 'message_text', not both.")
        if data["prompt_text"] is None and data["message_text"] is None:
            raise ValidationError("Either 'prompt_text' or 'message_text' must be provided.")
        refuse_reserved_key(data, "session_data")


USAGE_METRICS = ("cost", "messages", "participants", "sessions", "tokens")
USAGE_PERIODS = ("current_month", "previous_month")
USAGE_GRANULARITIES = ("total", "daily", "weekly", "monthly")
USAGE_GROUPS = ("participant", "chatbot", "platform")
# OCS's usage filters by the platforms its channels have: its evaluation harness's sessions are not usage.
USAGE_PLATFORMS = tuple(platform for platform in PLATFORMS if platform != "evaluations")
MAX_IDENTIFIER_LENGTH = 320


class UsageRequest(Body):
    """`GET /api/v2/usage/`'s query parameters (`metric` given once per metric)."""

    metric = Choices(USAGE_METRICS, required=True)
    period = Choice(USAGE_PERIODS, load_default=None)
    start = LocalDateTime(load_default=None)
    end = LocalDateTime(load_default=None)
    granularity = Choice(USAGE_GRANULARITIES, load_default="total")
    group_by = Choice(USAGE_GROUPS, load_default=None)
    tz = TimeZoneName(load_default=lambda: ZoneInfo("UTC"))
    chatbot = Uuid(load_default=None)
    participant = Uuid(load_default=None)
    participant_identifier = String(max_length=MAX_IDENTIFIER_LENGTH, load_default=None)
    platform = Choice(USAGE_PLATFORMS, load_default=None)

    @validates_schema
    def one_window(self, data, **kwargs):
        if data["period"] and (data["start"] or data["end"]):
            raise ValidationError("'period' cannot be combined with 'start'/'end'.")
        if bool(data["start"]) != bool(data["end"]):
            raise ValidationError("'start' and 'end' must be given together.")
