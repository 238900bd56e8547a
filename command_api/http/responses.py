"""The OpenAI Responses API's writes: `POST /api/openai/<chatbot>/responses` answers within the request like a chat
completion (in a new session, or continuing the session of `previous_response_id`), keeps the response once it has
ended unless `store` is false, and `DELETE .../responses/<id>` deletes a kept one. Reads are the query API's.

With `stream: true` the answer is the Responses API's server-sent events, each text delta sent as the provider
produces it."""

import itertools
import time
import uuid

from flask import Blueprint, Response, g

from command_api import commands
from command_api.bus import CommandBus
from command_api.handlers.conversations import Exchange, conversing_chatbot
from command_api.http.answered_in_request import STREAM_HEADERS, in_background, settled, sse, started
from command_api.ports import Answer, NoReply, ReplySource
from command_api.read_your_writes import ReadModelWaiter
from infra.permissions import CONVERSATIONS, guarded
from infra.web import answers_errors_as_openai, json_body, json_response
from schemas import representations
from schemas.errors import REPLY_FAILED, openai_error
from schemas.read_models import RESPONSES
from schemas.responses_api import (
    RESPONSES_PATHS,
    ResponseRequest,
    message_item_id,
    missing_response,
    response_request,
    response_uuid,
)


def responses_blueprint(bus: CommandBus, waiter: ReadModelWaiter, replies: ReplySource) -> Blueprint:
    """Served under /api and /api/v1, beside chat completions."""
    api = Blueprint("openai_responses", __name__)
    answers_errors_as_openai(api, RESPONSES_PATHS)

    def answering(draft: dict, exchange: Exchange, request: ResponseRequest, team: str, chatbot_id: str):
        """A function of `on_piece` that produces the reply, keeps the response as it ended (completed or failed)
        and waits for the read models; it returns (the response's document, the reply's text)."""

        def keep(response: dict) -> None:
            if response["store"]:
                bus.handle(
                    commands.StoreResponse(
                        response_id=response["_id"],
                        team=team,
                        chatbot_id=chatbot_id,
                        session_id=str(exchange.session.id),
                        task_id=exchange.task_id,
                        input_message_ids=exchange.input_message_ids,
                        previous_response_id=response["previous_response_id"],
                        instructions=response["instructions"],
                        metadata=tuple(response["metadata"]),
                        model=response["model"],
                        status=response["status"],
                        error=response["error"],
                        usage=response["usage"],
                        created_at=response["created_at"],
                    )
                )
                waiter.wait(RESPONSES, response["_id"], 1)
            settled(bus, waiter, str(exchange.session.id))

        def answered(on_piece) -> tuple[dict, str]:
            session_id = str(exchange.session.id)
            try:
                answer = replies.answer(
                    session_id, exchange.task_id, exchange.message, exchange.version, on_piece, request.instructions
                )
            except NoReply:
                keep(failed(draft))
                raise
            answer = answer or Answer("", None)
            completed = {**draft, "status": "completed", "usage": answer.usage}
            keep(completed)
            return completed, answer.text

        return answered

    def streamed(draft: dict, exchange: Exchange, answered) -> Response:
        pieces = in_background(answered, f"response-{exchange.task_id}")
        numbers = itertools.count()
        text_at = {"item_id": message_item_id(exchange.task_id), "output_index": 0, "content_index": 0}

        def event(event_type: str, **fields) -> str:
            return sse(representations.response_stream_event(event_type, next(numbers), **fields), event_type)

        def events():
            yield event("response.created", response=representations.model_response(draft, None))
            yield event("response.in_progress", response=representations.model_response(draft, None))
            item = representations.response_output_message(exchange.task_id, None, "in_progress")
            yield event("response.output_item.added", output_index=0, item=item)
            yield event("response.content_part.added", **text_at, part=representations.output_text(""))
            piece = pieces.get()
            while isinstance(piece, str):
                yield event("response.output_text.delta", **text_at, delta=piece, logprobs=[])
                piece = pieces.get()
            if isinstance(piece, Exception):
                yield event("response.failed", response=representations.model_response(failed(draft), None))
                return
            response, text = piece
            yield event("response.output_text.done", **text_at, text=text, logprobs=[])
            yield event("response.content_part.done", **text_at, part=representations.output_text(text))
            done = representations.response_output_message(exchange.task_id, text, "completed")
            yield event("response.output_item.done", output_index=0, item=done)
            yield event("response.completed", response=representations.model_response(response, text))

        return Response(events(), mimetype="text/event-stream", headers=STREAM_HEADERS)

    @api.post("/openai/<uuid:experiment_id>/responses")
    @api.post(
        "/openai/<uuid:experiment_id>/v<int(signed=True):version>/responses",
        endpoint="openai_create_response_versioned",
    )
    @guarded(CONVERSATIONS)
    def openai_create_response(experiment_id, version=None):
        chatbot = conversing_chatbot(bus.app, g.caller.team, str(experiment_id), version)
        g.caller.require_chatbot(experiment_id)
        request = response_request(json_body())
        exchange = started(
            bus,
            commands.StartResponse,
            experiment_id,
            version,
            participant=request.user,
            history=request.history,
            text=request.text,
            previous_response_id=request.previous_response_id,
            has_instructions=bool(request.instructions),
        )
        config, _ = chatbot.answering_config(version)
        draft = {
            "_id": str(uuid.uuid4()),
            "task_id": exchange.task_id,
            "created_at": int(time.time()),
            "model": config.get("model") or "",
            "status": "in_progress",
            "error": None,
            "usage": None,
            "metadata": list(request.metadata.items()),
            "previous_response_id": request.previous_response_id,
            "instructions": request.instructions,
            "store": request.store,
        }
        answered = answering(draft, exchange, request, g.caller.team, str(experiment_id))
        if request.stream:
            return streamed(draft, exchange, answered)
        try:
            response, text = answered(None)
        except NoReply:
            raise openai_error(502, REPLY_FAILED) from None
        return json_response(representations.model_response(response, text))

    @api.delete("/openai/<uuid:experiment_id>/responses/<response_id>")
    @api.delete(
        "/openai/<uuid:experiment_id>/v<int(signed=True):version>/responses/<response_id>",
        endpoint="openai_delete_response_versioned",
    )
    @guarded(CONVERSATIONS)
    def openai_delete_response(experiment_id, response_id, version=None):
        g.caller.require_chatbot(experiment_id)
        aggregate_id = response_uuid(response_id)
        if aggregate_id is None:
            raise missing_response(response_id)
        deleted = bus.handle(commands.DeleteResponse(g.caller.team, str(experiment_id), aggregate_id))
        waiter.wait(RESPONSES, aggregate_id, deleted.version)
        return json_response(representations.response_deleted(aggregate_id))

    return api


def failed(draft: dict) -> dict:
    """The response's document when the chatbot's LLM gave no reply (what the provider said stays in the logs)."""
    return {**draft, "status": "failed", "error": REPLY_FAILED}
