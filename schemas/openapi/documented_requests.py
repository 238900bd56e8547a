"""Request bodies that views check by hand (tags, update_state, chat completions, uploads): documentation only."""

from marshmallow import EXCLUDE, Schema, fields
from marshmallow.validate import Length, OneOf

from schemas.requests import (
    MESSAGE_ROLES,
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


class ChatUploadFileRequest(Documented):
    files = fields.List(
        fields.Raw(metadata={"type": "string", "format": "binary"}),
        required=True,
        metadata={"description": "at most 50 MB each and in total"},
    )
    participant_remote_id = fields.String()
    participant_name = fields.String()
