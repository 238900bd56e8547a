"""The text of the OpenAI Responses API's operations (`/api/openai/<chatbot>/responses`), served beside chat
completions: each also under a chatbot version's base URL (`/v<version>/responses...`)."""

from schemas import responses as r
from schemas.openapi.building_blocks import (
    EXPERIMENT_ID,
    TEAM,
    VERSION,
    answer,
    json_body,
    path_param,
    query_param,
)
from schemas.openapi.documented_requests import CreateResponseRequest
from schemas.responses_api import DEFAULT_INPUT_ITEMS_PAGE, MAX_INPUT_ITEMS_PAGE

RESPONSE_ID = path_param("response_id", "the response's id, `resp_<hex>`")
BASE_URL = (
    "Use OpenAI's client with `base_url` = `<this server>/api/openai/<experiment_id>` (plus `/v<version>`). "
    "Every error is in OpenAI's shape."
)
MISSING = "no such chatbot or version, or no such response kept by this chatbot (another team's is missing too)"
UNAUTHENTICATED = answer("no credential, or an unknown or revoked one", r.OpenAiError)
FORBIDDEN = answer("a read-only API key, or a credential that may not converse with the chatbot", r.OpenAiError)
STREAM_EVENTS = (
    "`response.created`, `response.in_progress`, `response.output_item.added`, `response.content_part.added`, "
    "`response.output_text.delta` (one per piece as the provider generates it), `response.output_text.done`, "
    "`response.content_part.done`, `response.output_item.done`, `response.completed`; or `response.failed` when the "
    "chatbot's LLM gives no reply. Each has a `sequence_number`."
)


def create_operation(summary: str, parameters: list[dict]) -> dict:
    created = answer("the response; with `stream: true`, server-sent events", r.ModelResponse)
    created["content"]["text/event-stream"] = {"schema": {"description": STREAM_EVENTS}}
    return {
        "summary": summary,
        "description": "Answers like a chat completion: the input goes into a new session (or, with "
        "`previous_response_id`, into that response's session, whose history, state, page context and participant "
        "carry over), and the response is kept unless `store` is false. Refused with a 400: `tools`, `tool_choice` "
        "other than `none`/`auto`, `reasoning`, `text.format` other than `text`, `background`, `conversation`, "
        "`prompt`, `include`, `max_tool_calls`, non-message input items and non-text content. Ignored, as the "
        "chatbot's version decides them: `model`, `temperature`, `top_p`, `max_output_tokens`, `truncation` and "
        "other sampling settings. " + BASE_URL,
        "tags": ["OpenAI"],
        "security": TEAM,
        "parameters": parameters,
        "requestBody": json_body(CreateResponseRequest),
        "responses": {
            "200": created,
            "400": answer("an invalid or unsupported field (OpenAI's `param` names it)", r.OpenAiError),
            "401": UNAUTHENTICATED,
            "403": FORBIDDEN,
            "404": answer(MISSING, r.OpenAiError),
            "413": answer("the body or the input is too large", r.OpenAiError),
            "415": answer("the body is not `application/json`", r.OpenAiError),
            "502": answer("the chatbot's LLM gave no reply (kept as a `failed` response)", r.OpenAiError),
        },
    }


def read_operation(summary: str, description: str, parameters: list[dict], body) -> dict:
    return {
        "summary": summary,
        "description": description + " " + BASE_URL,
        "tags": ["OpenAI"],
        "security": TEAM,
        "parameters": parameters,
        "responses": {
            "200": answer(summary.lower(), body),
            "400": answer("an invalid query parameter", r.OpenAiError),
            "401": UNAUTHENTICATED,
            "403": FORBIDDEN,
            "404": answer(MISSING, r.OpenAiError),
        },
    }


def delete_operation(summary: str, parameters: list[dict]) -> dict:
    return {
        "summary": summary,
        "description": "It can no longer be retrieved or continued; its session and messages stay. " + BASE_URL,
        "tags": ["OpenAI"],
        "security": TEAM,
        "parameters": parameters,
        "responses": {
            "200": answer("deleted", r.ResponseDeleted),
            "401": UNAUTHENTICATED,
            "403": FORBIDDEN,
            "404": answer(MISSING, r.OpenAiError),
        },
    }


def input_items_parameters() -> list[dict]:
    return [
        query_param(
            "limit",
            f"items per page: default {DEFAULT_INPUT_ITEMS_PAGE}, at most {MAX_INPUT_ITEMS_PAGE}",
            type="integer",
        ),
        query_param("order", "`desc` (default: the last input item first) or `asc`", enum=["asc", "desc"]),
        query_param("after", "an item id: the page starts after it"),
    ]


def response_operations() -> dict:
    versioned = [EXPERIMENT_ID, VERSION]
    return {
        "openai_create_response": create_operation("Create a response (OpenAI Responses API)", [EXPERIMENT_ID]),
        "openai_create_response_versioned": create_operation("Create a response with a chosen version", versioned),
        "openai_retrieve_response": read_operation(
            "A kept response", "As it ended.", [EXPERIMENT_ID, RESPONSE_ID], r.ModelResponse
        ),
        "openai_retrieve_response_versioned": read_operation(
            "A kept response", "As it ended; the version does not matter.", [*versioned, RESPONSE_ID], r.ModelResponse
        ),
        "openai_response_input_items": read_operation(
            "A response's input items",
            "The messages its `input` became, in OpenAI's list shape.",
            [EXPERIMENT_ID, RESPONSE_ID, *input_items_parameters()],
            r.ResponseInputItemList,
        ),
        "openai_response_input_items_versioned": read_operation(
            "A response's input items",
            "The messages its `input` became, in OpenAI's list shape; the version does not matter.",
            [*versioned, RESPONSE_ID, *input_items_parameters()],
            r.ResponseInputItemList,
        ),
        "openai_delete_response": delete_operation("Delete a kept response", [EXPERIMENT_ID, RESPONSE_ID]),
        "openai_delete_response_versioned": delete_operation(
            "Delete a kept response (under a version's base URL)", [*versioned, RESPONSE_ID]
        ),
    }
