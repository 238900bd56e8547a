"""Request bodies that views check by hand (tags, update_state, chat completions, uploads): documentation only."""

from marshmallow import EXCLUDE, Schema, fields
from marshmallow.validate import Length, OneOf

from schemas.requests import MAX_MESSAGES_PER_REQUEST, MESSAGE_ROLES
from schemas.responses_api import (
    INPUT_ROLES,
    MAX_INSTRUCTIONS_LENGTH,
    MAX_METADATA_KEY_LENGTH,
    MAX_METADATA_PAIRS,
    MAX_METADATA_VALUE_LENGTH,
)


class Documented(Schema):
    class Meta:
        # Like the validating schemas: unknown fields are ignored, so no `additionalProperties: false`.
        unknown = EXCLUDE


class TagsRequest(Documented):
    tags = fields.List(fields.String(validate=Length(min=1)), required=True, validate=Length(min=1))


class UpdateStateRequest(Documented):
    state = fields.Dict(
        required=True,
        validate=Length(min=1),
        metadata={"description": "replaces the state; `page_context` is reserved and kept as it was"},
    )


TEXT_PARTS = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"type": {"type": "string", "enum": ["text"]}, "text": {"type": "string"}},
        "required": ["type", "text"],
    },
}


INPUT_TEXT_PARTS = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"type": {"type": "string", "enum": ["input_text", "output_text"]}, "text": {"type": "string"}},
        "required": ["type", "text"],
    },
}


INPUT_MESSAGE = {
    "type": "object",
    "properties": {
        "type": {"type": "string", "enum": ["message"], "description": "only message items are taken"},
        "role": {"type": "string", "enum": list(INPUT_ROLES), "description": "`developer` is kept as `system`"},
        "content": {"oneOf": [{"type": "string"}, INPUT_TEXT_PARTS], "description": "parts are joined with spaces"},
    },
    "required": ["role", "content"],
}


class CompletionMessage(Documented):
    role = fields.String(required=True, validate=OneOf(MESSAGE_ROLES))
    content = fields.Raw(
        required=True,
        metadata={"oneOf": [{"type": "string"}, TEXT_PARTS], "description": "text parts are joined with spaces"},
    )


class CreateChatCompletionRequest(Documented):
    messages = fields.List(
        fields.Nested(CompletionMessage),
        required=True,
        validate=Length(min=1),
        metadata={"description": "the conversation so far; the last message must be the user's"},
    )
    user = fields.String(metadata={"description": "the participant identifier (default: the API key's user)"})
    stream = fields.Boolean(
        load_default=False, metadata={"description": "answer as OpenAI's server-sent `chat.completion.chunk`s"}
    )


class CreateResponseRequest(Documented):
    model = fields.String(metadata={"description": "ignored: the chatbot's version chooses its model"})
    input = fields.Raw(
        required=True,
        metadata={
            "oneOf": [{"type": "string"}, {"type": "array", "items": INPUT_MESSAGE}],
            "description": f"the user's text, or up to {MAX_MESSAGES_PER_REQUEST} message items, the last the user's",
        },
    )
    instructions = fields.String(
        metadata={
            "description": "added after the chatbot's prompt, for this response only (at most "
            f"{MAX_INSTRUCTIONS_LENGTH} characters; refused when the chatbot answers through a pipeline)"
        }
    )
    previous_response_id = fields.String(
        metadata={"description": "continue that response's session: its history, state, page context, participant"}
    )
    store = fields.Boolean(
        load_default=True, metadata={"description": "false: the response cannot be retrieved or continued"}
    )
    metadata = fields.Dict(
        keys=fields.String(validate=Length(max=MAX_METADATA_KEY_LENGTH)),
        values=fields.String(validate=Length(max=MAX_METADATA_VALUE_LENGTH)),
        metadata={"description": f"at most {MAX_METADATA_PAIRS} pairs"},
    )
    user = fields.String(metadata={"description": "the participant identifier (default: the API key's user)"})
    stream = fields.Boolean(
        load_default=False, metadata={"description": "answer as the Responses API's server-sent events"}
    )


class ChatUploadFileRequest(Documented):
    files = fields.List(
        fields.Raw(metadata={"type": "string", "format": "binary"}),
        required=True,
        metadata={"description": "at most 50 MB each and in total"},
    )
    participant_remote_id = fields.String()
    participant_name = fields.String()
