"""The OpenAI Responses API's reads: a kept response, and its input items (OpenAI's list shape and paging)."""

from flask import Blueprint, g, request
from pymongo.database import Database

from infra.permissions import CONVERSATIONS, guarded
from infra.web import answers_errors_as_openai, json_response
from query_api.queries.responses import input_messages, kept_response, reply_text
from schemas import representations
from schemas.errors import openai_error
from schemas.responses_api import (
    DEFAULT_INPUT_ITEMS_PAGE,
    MAX_INPUT_ITEMS_PAGE,
    RESPONSES_PATHS,
    message_uuid,
    missing_response,
    response_uuid,
)


def responses_blueprint(db: Database) -> Blueprint:
    """Served under /api and /api/v1, and under a chatbot version's base URL too (the OpenAI client's base URL)."""
    api = Blueprint("openai_responses", __name__)
    answers_errors_as_openai(api, RESPONSES_PATHS)

    def requested_response(experiment_id, response_id: str) -> dict:
        g.caller.require_chatbot(experiment_id)
        aggregate_id = response_uuid(response_id)
        response = aggregate_id and kept_response(db, g.caller.team, str(experiment_id), aggregate_id)
        if not response:
            raise missing_response(response_id)
        return response

    @api.get("/openai/<uuid:experiment_id>/responses/<response_id>")
    @api.get(
        "/openai/<uuid:experiment_id>/v<int(signed=True):version>/responses/<response_id>",
        endpoint="openai_retrieve_response_versioned",
    )
    @guarded(CONVERSATIONS)
    def openai_retrieve_response(experiment_id, response_id, version=None):
        response = requested_response(experiment_id, response_id)
        return json_response(representations.model_response(response, reply_text(db, response)))

    @api.get("/openai/<uuid:experiment_id>/responses/<response_id>/input_items")
    @api.get(
        "/openai/<uuid:experiment_id>/v<int(signed=True):version>/responses/<response_id>/input_items",
        endpoint="openai_response_input_items_versioned",
    )
    @guarded(CONVERSATIONS)
    def openai_response_input_items(experiment_id, response_id, version=None):
        response = requested_response(experiment_id, response_id)
        limit = request.args.get("limit", str(DEFAULT_INPUT_ITEMS_PAGE))
        if not (limit.isascii() and limit.isdigit()) or not 1 <= int(limit) <= MAX_INPUT_ITEMS_PAGE:
            raise openai_error(400, f"'limit' must be a whole number from 1 to {MAX_INPUT_ITEMS_PAGE}", "limit")
        order = request.args.get("order", "desc")
        if order not in ("asc", "desc"):
            raise openai_error(400, "'order' must be 'asc' or 'desc'", "order")
        after = message_uuid(request.args.get("after", ""))  # an id of none of its items pages from the start
        messages, has_more = input_messages(db, response, after, int(limit), order == "desc")
        return json_response(representations.response_input_items(messages, has_more))

    return api
