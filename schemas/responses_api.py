"""The OpenAI Responses API's request, checked (`POST /api/openai/<chatbot>/responses`), and the spelling of its ids.

What a chatbot cannot honour is refused with a 400 naming the field (tools, reasoning, structured output, files and
images); what only tunes how the provider samples (`temperature`, `max_output_tokens`, ...) is ignored, since the
chatbot's own settings decide, as `model` is on chat completions."""

from dataclasses import dataclass
from uuid import UUID

from schemas.errors import ApiError, openai_error
from schemas.fields import type_name
from schemas.requests import MAX_IDENTIFIER_LENGTH, MAX_MESSAGES_PER_REQUEST

# The Responses API's paths below the API's mounts, the ones no route matches included (a chatbot id that is no UUID,
# a version that is no whole number): all refused in OpenAI's shape.
RESPONSES_PATHS = r"/openai/[^/]+(/v[^/]*)?/responses(/.*)?"
# OpenAI's own limits on `metadata`.
MAX_METADATA_PAIRS = 16
MAX_METADATA_KEY_LENGTH = 64
MAX_METADATA_VALUE_LENGTH = 512
# Ours: instructions travel in the stored response's event, which must fit a broker message with room to spare.
MAX_INSTRUCTIONS_LENGTH = 100_000
# A response's input items, listed a page at a time.
DEFAULT_INPUT_ITEMS_PAGE = 20
MAX_INPUT_ITEMS_PAGE = 100
INPUT_ROLES = ("user", "assistant", "system", "developer")
TEXT_PARTS = ("input_text", "output_text")
# Fields whose every value but the neutral one asks for something no chatbot here does.
REFUSED_UNLESS_NEUTRAL = {
    "tools": ([], None),
    "tool_choice": ("none", "auto", None),
    "reasoning": (None,),
    "background": (False, None),
    "conversation": (None,),
    "prompt": (None,),
    "include": ([], None),
    "max_tool_calls": (None,),
}
RESPONSE_ID_PREFIX = "resp_"
MESSAGE_ID_PREFIX = "msg_"


@dataclass(frozen=True)
class ResponseRequest:
    history: tuple[dict, ...]  # {role, content} before the last item, oldest first
    text: str  # the last item: the user's message to answer
    instructions: str | None
    previous_response_id: str | None  # the aggregate id of the response continued, as a UUID's text
    store: bool
    metadata: dict[str, str]
    user: str | None
    stream: bool


def response_request(body) -> ResponseRequest:
    """The request's fields, or an OpenAI-shaped 400 naming the first one that is wrong."""
    if not isinstance(body, dict):
        raise openai_error(400, f"The request body must be a JSON object, not {type_name(body)}")
    for field, neutral in REFUSED_UNLESS_NEUTRAL.items():
        if field in body and body[field] not in neutral:
            raise openai_error(400, f"'{field}' is not supported by this server", field)
    refuse_structured_output(body.get("text"))
    items = input_items(body.get("input"))
    previous = optional_text(body, "previous_response_id", MAX_IDENTIFIER_LENGTH)
    previous_id = response_uuid(previous) if previous is not None else None
    if previous is not None and previous_id is None:
        raise missing_response(previous)
    return ResponseRequest(
        history=tuple(items[:-1]),
        text=items[-1]["content"],
        instructions=optional_text(body, "instructions", MAX_INSTRUCTIONS_LENGTH),
        previous_response_id=previous_id,
        store=flag(body, "store", True),
        metadata=metadata(body.get("metadata")),
        user=(optional_text(body, "user", MAX_IDENTIFIER_LENGTH) or "").strip() or None,
        stream=flag(body, "stream", False),
    )


def refuse_structured_output(text) -> None:
    if text is None:
        return
    response_format = text.get("format") if isinstance(text, dict) else None
    if not isinstance(text, dict) or (response_format is not None and response_format != {"type": "text"}):
        raise openai_error(400, "Only plain text output ('text.format' of type 'text') is supported", "text")


def input_items(value) -> list[dict]:
    """`input` as messages ({role, content}), the last being the user's."""
    if isinstance(value, str):
        value = [{"role": "user", "content": value}]
    if not isinstance(value, list) or not value:
        raise openai_error(400, "'input' must be a non-empty string or a non-empty list of message items", "input")
    if len(value) > MAX_MESSAGES_PER_REQUEST:
        raise openai_error(400, f"'input' has at most {MAX_MESSAGES_PER_REQUEST} items", "input")
    items = [input_message(item, index) for index, item in enumerate(value)]
    if items[-1]["role"] != "user":
        raise openai_error(400, "The last input item must be a user message", "input")
    return items


def input_message(item, index: int) -> dict:
    param = f"input[{index}]"
    if not isinstance(item, dict) or item.get("type", "message") != "message":
        raise openai_error(400, f"{param}: only message items are supported", param)
    if item.get("role") not in INPUT_ROLES:
        raise openai_error(400, f"{param}: 'role' must be one of {', '.join(INPUT_ROLES)}", param)
    # Sessions know OCS's three roles; a developer message is what chat completions call a system message.
    role = "system" if item["role"] == "developer" else item["role"]
    return {"role": role, "content": message_text(item.get("content"), param)}


def message_text(content, param: str) -> str:
    """A message's text: a string, or its text parts joined with spaces (as chat completions join theirs)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and content:
        if all(isinstance(part, dict) and part.get("type") in TEXT_PARTS for part in content):
            texts = [part.get("text") for part in content]
            if all(isinstance(text, str) for text in texts):
                return " ".join(texts)
        raise openai_error(400, f"{param}: only text content ('input_text' parts) is supported", param)
    raise openai_error(400, f"{param}: 'content' must be a string or a list of 'input_text' parts", param)


def metadata(value) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise openai_error(400, "'metadata' must be an object whose values are strings", "metadata")
    if len(value) > MAX_METADATA_PAIRS:
        raise openai_error(400, f"'metadata' has at most {MAX_METADATA_PAIRS} pairs", "metadata")
    if any(len(key) > MAX_METADATA_KEY_LENGTH for key in value):
        raise openai_error(400, f"'metadata' keys have at most {MAX_METADATA_KEY_LENGTH} characters", "metadata")
    if any(len(text) > MAX_METADATA_VALUE_LENGTH for text in value.values()):
        raise openai_error(400, f"'metadata' values have at most {MAX_METADATA_VALUE_LENGTH} characters", "metadata")
    return value


def optional_text(body: dict, field: str, max_length: int) -> str | None:
    value = body.get(field)
    if value is not None and not isinstance(value, str):
        raise openai_error(400, f"'{field}' must be a string", field)
    if value is not None and len(value) > max_length:
        raise openai_error(400, f"'{field}' has at most {max_length} characters", field)
    return value


def flag(body: dict, field: str, default: bool) -> bool:
    value = body.get(field, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise openai_error(400, f"'{field}' must be a boolean", field)
    return value


def missing_response(text_id: str) -> ApiError:
    """OpenAI's 404 for a response id: one never kept, deleted, another team's or another chatbot's alike."""
    return openai_error(404, f"Response with id '{text_id}' not found.")


def response_id(aggregate_id: str) -> str:
    return RESPONSE_ID_PREFIX + UUID(aggregate_id).hex


def response_uuid(text: str) -> str | None:
    """The aggregate id a response id names, or None when it names none (so it answers as missing)."""
    return prefixed_uuid(text, RESPONSE_ID_PREFIX)


def message_item_id(message_id: str) -> str:
    """A session message's (or, for a reply, its task's) id as a Responses API item id."""
    return MESSAGE_ID_PREFIX + UUID(message_id).hex


def message_uuid(text: str) -> str | None:
    """The session message (or reply task) an item id names, or None."""
    return prefixed_uuid(text, MESSAGE_ID_PREFIX)


def prefixed_uuid(text: str, prefix: str) -> str | None:
    hex_part = text.removeprefix(prefix)
    if hex_part == text or len(hex_part) != 32 or not all(c in "0123456789abcdef" for c in hex_part):
        return None
    return str(UUID(hex_part))
