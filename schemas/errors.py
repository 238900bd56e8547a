"""Error bodies (SPEC §1.9): every error the API answers is an ApiError carrying its status and body."""

from marshmallow import ValidationError


class ApiError(Exception):
    def __init__(self, status: int, body: dict, headers: dict | None = None):
        super().__init__(status, body)
        self.status = status
        self.body = body
        self.headers = headers or {}

    def message(self) -> str:
        """One line for logs and the admin CLI."""
        body = self.body
        for key in ("detail", "error"):
            if isinstance(body.get(key), str):
                return body[key]
        return str(body)


def detail(status: int, text: str, headers: dict | None = None) -> ApiError:
    """E1: framework-style errors."""
    return ApiError(status, {"detail": text}, headers)


def field_errors(errors: dict, status: int = 400) -> ApiError:
    """E2: body validation errors keyed by field."""
    return ApiError(status, errors)


def error(status: int, text: str) -> ApiError:
    """E3: session actions' and chat endpoints' business errors."""
    return ApiError(status, {"error": text})


def openai_error(status: int, text: str, param: str | None = None) -> ApiError:
    """E5: the OpenAI-compatible endpoints' own errors, shaped as OpenAI's (`param`: the field at fault)."""
    return ApiError(status, {"error": {"message": text, "type": "error", "param": param, "code": None}})


def oauth_error(error_code: str, description: str, status: int = 400) -> ApiError:
    """The OAuth2 error shape (RFC 6749 §5.2), for the OAuth server's own endpoints."""
    return ApiError(status, {"error": error_code, "error_description": description})


# What a user sees when the chatbot's LLM gave no reply (OCS's words, its missing space included).
REPLY_FAILED = (
    "Sorry something went wrong. This was likely an intermittent error related to load."
    "Please try again, and wait a few minutes if this keeps happening."
)


def from_validation_error(exc: ValidationError, data) -> ApiError:
    return field_errors(drf_shaped(exc.messages, data))


def drf_shaped(messages, data):
    """Marshmallow keys list items by index and schema errors by `_schema`; OCS (DRF) answers lists
    with one entry per item (`{}` where the item was fine) and `non_field_errors`."""
    if not isinstance(messages, dict):
        return messages
    shaped = {}
    for key, value in messages.items():
        if key == "_schema":
            shaped["non_field_errors"] = value
            continue
        item = data.get(key) if isinstance(data, dict) else None
        if isinstance(value, dict) and value and all(isinstance(k, int) for k in value) and isinstance(item, list):
            shaped[key] = [drf_shaped(value.get(index, {}), element) for index, element in enumerate(item)]
        else:
            shaped[key] = drf_shaped(value, item)
    return shaped
