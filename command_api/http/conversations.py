"""Endpoints that answer within the request (SPEC §3.10-3.13): OpenAI-compatible chat completions and the
API channel's `incoming_message`. The user's message is recorded first; the reply is produced here, by
the same code the LLM workers use, and recorded before the answer goes out.

With `stream: true`, a completion's chunks go out as the provider produces them: the reply is produced in a thread
of its own, which records it whether or not the client stays to the end."""

import time

from flask import Blueprint, Response, g

from command_api import commands
from command_api.bus import CommandBus
from command_api.handlers.conversations import conversing_chatbot
from command_api.http.answered_in_request import STREAM_HEADERS, in_background, settled, sse, started
from command_api.ports import Answer, NoReply, ReplySource
from command_api.read_your_writes import ReadModelWaiter
from infra.authentication import FORBIDDEN
from infra.permissions import CONVERSATIONS, guarded
from infra.web import json_body, json_response, validated
from schemas import representations
from schemas.errors import REPLY_FAILED, ApiError, detail, openai_error
from schemas.requests import ApiMessageRequest, completion_messages

RESET_REPLY = "Conversation reset"


def conversations_blueprints(bus: CommandBus, waiter: ReadModelWaiter, replies: ReplySource):
    """(the OpenAI-compatible blueprint, served under /api and /api/v1; the API channel's, under /channels)."""
    openai_api = Blueprint("openai", __name__)
    channels = Blueprint("channels", __name__)

    def reply_to(exchange) -> str:
        try:
            answer = replies.answer(str(exchange.session.id), exchange.task_id, exchange.message, exchange.version)
        except NoReply:
            raise ApiError(502, {"detail": REPLY_FAILED}) from None
        return answer.text if answer else ""

    def streamed_reply(exchange, include_usage: bool) -> Response:
        """The completion's chunks as the reply is generated; a provider that fails before its first piece is the
        same 502 as without streaming, one that fails later an `error` event."""
        session_id = str(exchange.session.id)

        def produce(on_piece) -> Answer:
            answer = replies.answer(session_id, exchange.task_id, exchange.message, exchange.version, on_piece)
            settled(bus, waiter, session_id)
            return answer or Answer("", None)

        pieces = in_background(produce, f"completion-{exchange.task_id}")
        first = pieces.get()
        if isinstance(first, Exception):
            raise openai_error(502, REPLY_FAILED)
        created = int(time.time())

        def chunks():
            yield sse(representations.completion_chunk(session_id, created, {"role": "assistant", "content": ""}))
            item = first
            while isinstance(item, str):
                yield sse(representations.completion_chunk(session_id, created, {"content": item}))
                item = pieces.get()
            if isinstance(item, Exception):
                yield sse({"error": {"message": REPLY_FAILED, "type": "server_error", "param": None, "code": None}})
            else:
                yield sse(representations.completion_chunk(session_id, created, {}, "stop"))
                if include_usage:
                    yield sse(representations.completion_usage_chunk(session_id, created, item.usage))
            yield "data: [DONE]\n\n"

        return Response(chunks(), mimetype="text/event-stream", headers=STREAM_HEADERS)

    @openai_api.post("/openai/<uuid:experiment_id>/chat/completions")
    @openai_api.post(
        "/openai/<uuid:experiment_id>/v<int:version>/chat/completions", endpoint="openai_chat_completions_versioned"
    )
    @guarded(CONVERSATIONS)
    def openai_chat_completions(experiment_id, version=None):
        conversing_chatbot(bus.app, g.caller.team, str(experiment_id), version)
        g.caller.require_chatbot(experiment_id)
        body = json_body(refuse_field=lambda errors: openai_error(400, str(errors)))
        messages = completion_messages(body)
        user = body.get("user")
        exchange = started(
            bus,
            commands.StartCompletion,
            experiment_id,
            version,
            participant=user.strip() if isinstance(user, str) and user.strip() else None,
            history=tuple(messages[:-1]),
            text=messages[-1]["content"],
        )
        if body.get("stream") is True:
            options = body.get("stream_options")
            return streamed_reply(exchange, isinstance(options, dict) and options.get("include_usage") is True)
        try:
            text = reply_to(exchange)
        except ApiError:
            raise openai_error(502, REPLY_FAILED) from None
        settled(bus, waiter, exchange.session.id)
        return json_response(representations.completion(str(exchange.session.id), int(time.time()), text))

    @channels.post("/api/<uuid:experiment_id>/incoming_message")
    @channels.post("/api/<uuid:experiment_id>/v<int:version>/incoming_message", endpoint="new_api_message_versioned")
    @guarded(CONVERSATIONS)
    def new_api_message(experiment_id, version=None):
        if g.caller.is_machine:
            # A missing chatbot is a 404 before the allowlist's 403 (the handler resolves it for everyone else).
            conversing_chatbot(bus.app, g.caller.team, str(experiment_id), version)
            g.caller.require_chatbot(experiment_id)
            # The caller talks as themself, and a machine has no self (SPEC §3.12 Rec.: 403, OCS issue #4197).
            raise detail(403, FORBIDDEN)
        body = validated(ApiMessageRequest(), json_body())
        exchange = bus.handle(
            commands.SendApiMessage(
                team=g.caller.team,
                caller=g.caller.user,
                chatbot_id=str(experiment_id),
                version_number=version,
                session_id=body["session"],
                text=body["message"],
            )
        )
        text = RESET_REPLY if exchange.task_id is None else reply_to(exchange)
        session_id = str(exchange.session.id)
        settled(bus, waiter, session_id)
        return json_response(representations.api_reply(text, session_id), headers={"X-Session-Id": session_id})

    return openai_api, channels
